"""Facts about the machine for the dashboard: temperature, uptime, network, power, disk.

Everything is read from /sys and /proc under injectable roots, so tests build a fake tree.
"""

from __future__ import annotations

import fcntl
import ipaddress
import logging
import shutil
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Interface:
    name: str
    up: bool  # operstate up
    carrier: bool | None  # cable/link present (None: unknown)
    addresses: tuple[str, ...]  # CIDR, e.g. 192.168.1.20/24
    wireless: bool


@dataclass(frozen=True)
class Disk:
    path: str
    total_mb: float
    free_mb: float


class HostInfo:
    """Reads the host; ``sys_root``/``proc_root`` point at a fake tree in tests and ``addresses``
    (name → CIDR list) replaces the socket lookup there."""

    def __init__(
        self,
        sys_root: Path = Path("/sys"),
        proc_root: Path = Path("/proc"),
        addresses: dict[str, list[str]] | None = None,
    ) -> None:
        self.sys_root = sys_root
        self.proc_root = proc_root
        self._addresses = addresses

    def __repr__(self) -> str:
        return f"HostInfo(sys={self.sys_root}, proc={self.proc_root})"

    def cpu_temp_c(self) -> float | None:
        best: float | None = None
        for zone in sorted((self.sys_root / "class/thermal").glob("thermal_zone*")):
            try:
                value = int((zone / "temp").read_text().strip()) / 1000.0
            except (OSError, ValueError):
                continue
            best = value if best is None else max(best, value)
        return best

    def uptime_s(self) -> float | None:
        try:
            return float((self.proc_root / "uptime").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def under_voltage(self) -> bool | None:
        """True when the Pi's supply has sagged (hwmon in0_lcrit_alarm of rpi_volt); None: unknown."""
        for mon in (self.sys_root / "class/hwmon").glob("hwmon*"):
            try:
                if (mon / "name").read_text().strip() == "rpi_volt":
                    return (mon / "in0_lcrit_alarm").read_text().strip() == "1"
            except OSError:
                continue
        return None

    def interfaces(self) -> list[Interface]:
        out = []
        for path in sorted((self.sys_root / "class/net").glob("*")):
            name = path.name
            if name == "lo":
                continue
            state = _read(path / "operstate")
            carrier_text = _read(path / "carrier")
            carrier = None if carrier_text is None else carrier_text == "1"
            addrs = tuple(self._addresses.get(name, []) if self._addresses is not None else _ipv4_cidr(name))
            out.append(Interface(name, state == "up", carrier, addrs, (path / "wireless").exists()))
        return out

    def default_gateway(self) -> str | None:
        try:
            lines = (self.proc_root / "net/route").read_text().splitlines()[1:]
        except OSError:
            return None
        for line in lines:
            parts = line.split()
            if len(parts) > 2 and parts[1] == "00000000":
                return socket.inet_ntoa(struct.pack("<L", int(parts[2], 16)))
        return None

    @staticmethod
    def disk(path: Path) -> Disk | None:
        target = path if path.exists() else path.parent
        try:
            usage = shutil.disk_usage(target)
        except OSError:
            return None
        return Disk(str(path), usage.total / 2**20, usage.free / 2**20)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _ipv4_cidr(name: str) -> list[str]:
    """The interface's IPv4 address and prefix (SIOCGIFADDR/SIOCGIFNETMASK)."""

    packed = struct.pack("256s", name.encode()[:15])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            addr = socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, packed)[20:24])
            mask = socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x891B, packed)[20:24])
        except OSError:
            return []
    prefix = ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
    return [f"{addr}/{prefix}"]


def gateway_in_subnet(addresses: tuple[str, ...], gateway: str) -> bool:
    """Whether ``gateway`` lies in one of the interface's subnets."""
    gw = ipaddress.ip_address(gateway)
    for cidr in addresses:
        try:
            if gw in ipaddress.ip_interface(cidr).network:
                return True
        except ValueError:
            continue
    return False
