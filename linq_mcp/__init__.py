"""linq-mcp: the Linq Partner API as an MCP server."""

__version__ = "0.1.0"
