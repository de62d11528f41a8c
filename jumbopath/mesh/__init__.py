"""Cluster meshes: inventories, SSH fan-out, matrices and what they point at."""

from jumbopath.mesh.inventory import Inventory, MeshHost, Network, load_inventory
from jumbopath.mesh.matrix import Mesh, NetworkMatrix, Verdict, build_mesh
from jumbopath.mesh.runs import ErrorKind, HostError, HostRun, NetworkRun

__all__ = [
    "ErrorKind",
    "HostError",
    "HostRun",
    "Inventory",
    "Mesh",
    "MeshHost",
    "Network",
    "NetworkMatrix",
    "NetworkRun",
    "Verdict",
    "build_mesh",
    "load_inventory",
]
