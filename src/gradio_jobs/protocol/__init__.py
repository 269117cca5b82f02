"""The sans-I/O protocol core: pure functions and small state machines, no sockets, no threads."""
