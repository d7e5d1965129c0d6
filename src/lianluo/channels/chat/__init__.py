"""Web chat: the widget's sessions and WebSocket, the agent desk's WebSocket, their pages."""
