"""What the Python test scripts share: a free port on the loopback."""
import socket


def free_port():
    """A port nothing listens on now (the kernel's pick, then closed)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port
