"""An allocation-heavy Python program for the shim's real-program test.

It does what Python programs spend their allocations on: dicts and lists
that grow and shrink, strings built piece by piece, sorting, a JSON round
trip, and many small instances of one class. Every step prints a checksum
or a count, never an address or a hash-ordered set, so the output is the
same on every run and on every malloc: the test compares it byte for byte
between glibc and the shim.

Run with PYTHONMALLOC=malloc, or most small objects never reach malloc
(see tools/shim/tests/CMakeLists.txt).

Usage: alloc_heavy.py [DIVISOR]   (every step's count divided by DIVISOR,
default 1: measure_real_programs.py --quick runs a small version)
"""
import json
import sys
import zlib

ROUNDS = 2


def scaled(count):
    """`count`, divided by the command line's DIVISOR (at least 1)."""
    divisor = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    return max(1, count // divisor)


def checksum(text):
    """A short, stable digest of `text` (CRC-32: not Python's hash())."""
    return "{:08x}".format(zlib.crc32(text.encode("utf-8")))


class Particle:
    """A small object with a dict of attributes: one instance is several blocks."""

    def __init__(self, index):
        self.index = index
        self.name = "p{}".format(index)
        self.position = [index % 97, index % 89, index % 83]
        self.tags = {"parity": index % 2, "bucket": index % 10}

    def energy(self):
        return sum(c * c for c in self.position) + self.tags["bucket"]


def dicts_and_lists(round_number):
    """Grows a dict of lists, then deletes two entries in three."""
    table = {}
    keys = scaled(5_000)
    for i in range(scaled(60_000)):
        table.setdefault("key{}".format(i % keys), []).append(i * round_number)
    for i in range(0, keys, 3):
        del table["key{}".format(i)]
    total = sum(len(values) for values in table.values())
    return "dicts: {} keys, {} values, sum {}".format(len(table), total,
                                                        sum(sum(v) for v in table.values()))


def string_building():
    """Builds a text from many small pieces, splits it and joins it again."""
    pieces = []
    for i in range(scaled(40_000)):
        pieces.append("line {} of {}".format(i, "x" * (i % 23)))
    text = "\n".join(pieces)
    words = text.split()
    rebuilt = " ".join(reversed(words))
    return "strings: {} chars, {} words, {}".format(len(text), len(words), checksum(rebuilt))


def sorting():
    """Sorts tuples and strings with keys, which allocates the key lists."""
    records = [((i * 7919) % 10_007, "name{}".format((i * 31) % 1_000)) for i in range(scaled(50_000))]
    by_number = sorted(records)
    by_name = sorted(records, key=lambda record: (record[1], -record[0]))
    return "sorting: first {}, last {}, by name first {}".format(by_number[0], by_number[-1],
                                                                  by_name[0])


def json_round_trip():
    """Encodes nested data to JSON and decodes it back."""
    data = [{"id": i, "name": "item{}".format(i), "values": list(range(i % 17)),
             "nested": {"even": i % 2 == 0, "label": "n" * (i % 5)}} for i in range(scaled(15_000))]
    encoded = json.dumps(data, sort_keys=True)
    decoded = json.loads(encoded)
    same = decoded == data
    return "json: {} bytes, round trip equal: {}, {}".format(len(encoded), same, checksum(encoded))


def many_instances():
    """Creates many instances, keeps one in three, and sums over them."""
    particles = [Particle(i) for i in range(scaled(40_000))]
    kept = [p for p in particles if p.index % 3 == 0]
    del particles
    return "instances: {} kept, energy {}".format(len(kept), sum(p.energy() for p in kept))


def main():
    for round_number in range(1, ROUNDS + 1):
        print("round {}".format(round_number))
        for step in (lambda: dicts_and_lists(round_number), string_building, sorting,
                     json_round_trip, many_instances):
            print("  " + step())


if __name__ == "__main__":
    main()
