"""A Python program that keeps a large heap alive, for measuring a malloc
on a big live set (tools/shim/measure_real_programs.py, row python3-big).

Usage: live_heap.py MIB

It builds a list of records (a tuple of an int and a bytes object of 8 to
200 bytes) until they hold about MIB MiB, as Python counts them
(sys.getsizeof), then replaces one record in three with a new one of
another size, so that the heap is carved, freed and carved again while it
is large, and walks the whole list. It prints counts and a checksum, never
an address, so the output is the same on every malloc.

Run with PYTHONMALLOC=malloc, or the small objects never reach malloc
(see tools/shim/tests/CMakeLists.txt).
"""
import sys

MIN_PAYLOAD = 8
MAX_PAYLOAD = 200
# Payload lengths repeat every PERIOD records (see payload()).
PERIOD = MAX_PAYLOAD - MIN_PAYLOAD + 1


def payload(index):
    """The bytes of record `index`: its length and content follow from it."""
    length = MIN_PAYLOAD + (index * 7919) % PERIOD
    return bytes([index % 251]) * length


def record(index):
    """Record `index`: a tuple of two objects, three blocks with the tuple."""
    return (index * 3 + 1, payload(index))


def record_bytes(index):
    """What record `index` holds as Python counts it (sys.getsizeof of the
    tuple, the int and the bytes object), plus its slot in the list."""
    item = record(index)
    return sys.getsizeof(item) + sys.getsizeof(item[0]) + sys.getsizeof(item[1]) + 8


def record_count(target):
    """How many records hold about `target` bytes: the sizes repeat with a
    period of PERIOD records, so one period is counted, not every record."""
    period_bytes = sum(record_bytes(index) for index in range(PERIOD))
    return max(1, target * PERIOD // period_bytes)


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) == 0:
        sys.exit("usage: live_heap.py MIB (a positive number of MiB to keep alive)")
    count = record_count(int(sys.argv[1]) * 1024 * 1024)
    records = [record(index) for index in range(count)]
    print("built {} records".format(count))
    for index in range(0, count, 3):
        records[index] = record(index + count)
    checksum = 0
    total = 0
    for number, data in records:
        total += len(data)
        checksum = (checksum * 31 + number + data[-1]) & 0xffffffff
    print("replaced {} records; {} payload bytes, checksum {:08x}".format((count + 2) // 3, total, checksum))


if __name__ == "__main__":
    main()
