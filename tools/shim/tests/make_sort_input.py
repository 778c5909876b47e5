"""Writes the input file that the shim's `sort` tests sort.

The file is made at test time (no data is committed), and always the same:
a seeded generator picks each line's words, so a glibc run and a shim run,
today and next year, sort the same bytes. Lines look like a small address
book ("surname given-name city 00012345"), with many repeated keys, so that
sort compares long common prefixes and equal lines.

Usage: make_sort_input.py OUTPUT [LINES]   (LINES defaults to 200000)
"""
import random
import sys

SURNAMES = ["martin", "bernard", "dubois", "thomas", "robert", "richard", "petit",
            "durand", "leroy", "moreau", "simon", "laurent", "lefebvre", "michel",
            "garcia", "david", "bertrand", "roux", "vincent", "fournier"]
GIVEN_NAMES = ["ada", "alan", "barbara", "dennis", "donald", "edsger", "frances",
               "grace", "john", "ken", "leslie", "margaret", "niklaus", "radia",
               "tony", "barbara-jane"]
CITIES = ["lyon", "paris", "nantes", "lille", "brest", "nice", "dijon", "metz",
          "rennes", "tours"]


def lines(count, seed=20240601):
    """The `count` lines of the file, from a generator seeded with `seed`."""
    rng = random.Random(seed)
    for _ in range(count):
        yield "{} {} {} {:08d}\n".format(rng.choice(SURNAMES), rng.choice(GIVEN_NAMES),
                                         rng.choice(CITIES), rng.randrange(10 ** 8))


def write(path, count):
    """Writes the `count` lines to `path`."""
    with open(path, "w", encoding="ascii", newline="\n") as out:
        out.writelines(lines(count))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[-1])
    write(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 200_000)
