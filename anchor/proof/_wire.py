"""The wire pieces the compact forms share: LEB128 varints and a cursor that names its field."""

from __future__ import annotations

from anchor.errors import ProofError

__all__ = ["Reader", "hexed", "varint"]


def hexed(data: bytes) -> str:
    """``0x`` + lower-case hex."""
    return "0x" + data.hex()


def varint(value: int) -> bytes:
    """Unsigned LEB128."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


class Reader:
    """A cursor over the payload that names the field it could not read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int, field: str) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise ProofError(f"compact proof is truncated: it ends inside {field}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self, field: str) -> int:
        return self.take(1, field)[0]

    def varint(self, field: str) -> int:
        value = shift = 0
        for _ in range(10):  # 10 x 7 bits cover a uint64
            b = self.byte(field)
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b == 0 and shift > 7:
                    raise ProofError(f"compact proof {field} is not a minimal varint")
                return value
        raise ProofError(f"compact proof {field} is longer than a 64-bit varint")

    def finish(self) -> None:
        extra = len(self.data) - self.pos
        if extra:
            raise ProofError(f"compact proof has {extra} trailing byte(s) after its last field")
