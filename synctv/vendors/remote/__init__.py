"""Vendor services over gRPC: the standalone server (`server.py`, `synctv vendor serve`), the client side
(`client.py`: the same Python interfaces over a backend's endpoints), and their shared conventions."""
