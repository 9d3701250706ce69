#!/usr/bin/env python3
"""Deterministic Nexmark event generator (Python 3.11, standard library only).

Writes the three Nexmark streams as files, one event per line, in event-time order:

    DIR/person.json   {"id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"}
    DIR/auction.json  {"id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires",
                       "seller", "category", "extra"}
    DIR/bid.json      {"auction", "bidder", "price", "channel", "url", "dateTime", "extra"}
    DIR/manifest.json the arguments and the number of events in each file

Timestamps are strings "yyyy-MM-dd HH:mm:ss.SSS" (UTC), which Flink's JSON format reads into
TIMESTAMP(3) with 'json.timestamp-format.standard' = 'SQL'. With --format csv the files are
person.csv, auction.csv and bid.csv instead: no header, columns in the order above, RFC 4180 quoting.

The model is the one of the Nexmark generators of Apache Beam and nexmark-flink (this is an
independent implementation of it, not a port of their random streams):

- Event number n = 0, 1, 2, ... is also the event id. n mod 50 decides the kind: 0 is a person,
  1..3 an auction, 4..49 a bid (proportions 1:3:46).
- Event time of event n is BASE_TIME + floor(n * 1000 / rate) ms, rate being --rate events per second
  (the inter-event delay is 1e6 / rate microseconds). It never depends on the wall clock.
- Person ids and auction ids are dense and increasing, both starting at 1000 (one new person and three
  new auctions per 50 events).
- Auctions: seller is a 'hot' seller (the first person of the current block of 100 people) with
  probability 1 - 1/hotSellersRatio (4), otherwise one of the last numActivePeople (1000) people plus a
  lead of up to 10 not-yet-created ids; category 10 + uniform(0..4); initialBid and reserve from the
  price distribution round(10^(6u) * 100) (reserve = initialBid + another price); expires = dateTime +
  1 + uniform(0 .. 2 * horizon) ms, horizon being the event-time span of the next
  numInFlightAuctions (100) auctions.
- Bids: auction is a 'hot' auction (the first auction of the current block of 100) with probability
  1 - 1/hotAuctionRatio (2), otherwise one of the last numInFlightAuctions (100) auctions plus a lead
  of up to 10; bidder is a 'hot' bidder (the second person of the current block of 100) with
  probability 1 - 1/hotBiddersRatio (4), otherwise an active person as for sellers; price from the
  price distribution; channel is one of Google/Facebook/Baidu/Apple with probability 1/2 (each with a
  fixed URL), otherwise "channel-K" for K uniform in 0..9999 (each with a fixed URL, 9 in 10 of them
  with "&channel_id=" + abs(Integer.reverse(K))).
- extra pads each event to an average size (person 200, auction 500, bid 100 bytes): a string of
  lowercase letters of length within +-20% of what is missing.

Every random choice is drawn from one random.Random(seed) in event order (the channel URLs from
Random(f"{seed}/channel/{K}")), so the same arguments always give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import sys
import time

# --- the Nexmark model's constants --------------------------------------------------------------

BASE_TIME_MS = 1436918400000  # 2015-07-15 00:00:00.000 UTC

PERSON_PROPORTION = 1
AUCTION_PROPORTION = 3
BID_PROPORTION = 46
TOTAL_PROPORTION = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION

FIRST_PERSON_ID = 1000
FIRST_AUCTION_ID = 1000
FIRST_CATEGORY_ID = 10
NUM_CATEGORIES = 5

PERSON_ID_LEAD = 10
AUCTION_ID_LEAD = 10

# Hot sellers/auctions/bidders are the first (second for bidders) of each block of this many ids.
HOT_SELLER_BLOCK = 100
HOT_AUCTION_BLOCK = 100
HOT_BIDDER_BLOCK = 100

# P(hot) = 1 - 1/ratio.
HOT_AUCTION_RATIO = 2
HOT_SELLERS_RATIO = 4
HOT_BIDDERS_RATIO = 4

NUM_IN_FLIGHT_AUCTIONS = 100
NUM_ACTIVE_PEOPLE = 1000

AVG_PERSON_BYTE_SIZE = 200
AVG_AUCTION_BYTE_SIZE = 500
AVG_BID_BYTE_SIZE = 100

HOT_CHANNELS_RATIO = 2
CHANNELS_NUMBER = 10_000
HOT_CHANNELS = ("Google", "Facebook", "Baidu", "Apple")

MIN_STRING_LENGTH = 3

US_STATES = ("AZ", "CA", "ID", "OR", "WA", "WY")
US_CITIES = ("Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond",
             "Seattle", "Kent", "Cheyenne")
FIRST_NAMES = ("Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter",
               "Walter")
LAST_NAMES = ("Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris")

LETTERS = "abcdefghijklmnopqrstuvwxyz"

PERSON_COLUMNS = ("id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra")
AUCTION_COLUMNS = ("id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires",
                   "seller", "category", "extra")
BID_COLUMNS = ("auction", "bidder", "price", "channel", "url", "dateTime", "extra")


# --- ids ----------------------------------------------------------------------------------------

def last_base0_person_id(event_id: int) -> int:
    """The newest person id (base 0) as of this event; the event's own id if it is a person."""
    epoch, offset = divmod(event_id, TOTAL_PROPORTION)
    if offset >= PERSON_PROPORTION:
        offset = PERSON_PROPORTION - 1
    return epoch * PERSON_PROPORTION + offset


def last_base0_auction_id(event_id: int) -> int:
    """The newest auction id (base 0) as of this event; the event's own id if it is an auction."""
    epoch, offset = divmod(event_id, TOTAL_PROPORTION)
    if offset < PERSON_PROPORTION:
        epoch -= 1
        offset = AUCTION_PROPORTION - 1
    elif offset >= PERSON_PROPORTION + AUCTION_PROPORTION:
        offset = AUCTION_PROPORTION - 1
    else:
        offset -= PERSON_PROPORTION
    return epoch * AUCTION_PROPORTION + offset


def next_base0_person_id(event_id: int, rng: random.Random) -> int:
    """One of the active people, or a few ids ahead of the newest one."""
    num_people = last_base0_person_id(event_id) + 1
    active = min(num_people, NUM_ACTIVE_PEOPLE)
    return num_people - active + rng.randrange(active + PERSON_ID_LEAD)


def next_base0_auction_id(event_id: int, rng: random.Random) -> int:
    """One of the auctions likely still in flight, or a few ids ahead of the newest one."""
    max_auction = last_base0_auction_id(event_id)
    min_auction = max(max_auction - NUM_IN_FLIGHT_AUCTIONS, 0)
    return min_auction + rng.randrange(max_auction - min_auction + 1 + AUCTION_ID_LEAD)


# --- values -------------------------------------------------------------------------------------

def java_round(x: float) -> int:
    return math.floor(x + 0.5)


def next_price(rng: random.Random) -> int:
    return java_round(10.0 ** (rng.random() * 6.0) * 100.0)


def next_string(rng: random.Random, max_length: int, special: str = " ") -> str:
    """3 to max_length-1 characters, each a letter or (1 in 13) `special`; then trimmed."""
    n = MIN_STRING_LENGTH + rng.randrange(max_length - MIN_STRING_LENGTH)
    chars = []
    for _ in range(n):
        if rng.randrange(13) == 0:
            chars.append(special)
        else:
            chars.append(LETTERS[rng.randrange(26)])
    return "".join(chars).strip()


def next_exact_string(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(LETTERS, k=length))


def next_extra(rng: random.Random, current_size: int, desired_average_size: int) -> str:
    if current_size > desired_average_size:
        return ""
    missing = desired_average_size - current_size
    delta = java_round(missing * 0.2)
    size = missing - delta + (0 if delta == 0 else rng.randrange(2 * delta))
    return next_exact_string(rng, size)


def int_reverse(value: int) -> int:
    """Java's Integer.reverse: the 32 bits in reverse order, as a signed int."""
    bits = int(format(value & 0xFFFFFFFF, "032b")[::-1], 2)
    return bits - (1 << 32) if bits >= (1 << 31) else bits


def base_url(rng: random.Random) -> str:
    return ("https://www.nexmark.com/" + next_string(rng, 5, "_") + "/" + next_string(rng, 5, "_")
            + "/" + next_string(rng, 5, "_") + "/item.htm?query=1")


class Channels:
    def __init__(self, seed: int, rng: random.Random):
        self.seed = seed
        self.hot_urls = tuple(base_url(rng) for _ in HOT_CHANNELS)
        self.cache: dict[int, tuple[str, str]] = {}

    def channel(self, number: int) -> tuple[str, str]:
        hit = self.cache.get(number)
        if hit is None:
            crng = random.Random(f"{self.seed}/channel/{number}")
            url = base_url(crng)
            if crng.randrange(10) > 0:
                url += "&channel_id=" + str(abs(int_reverse(number)))
            hit = self.cache[number] = (f"channel-{number}", url)
        return hit


# --- time ---------------------------------------------------------------------------------------

class TimeFormatter:
    """Epoch milliseconds to "yyyy-MM-dd HH:mm:ss.SSS" (UTC), caching the last second."""

    def __init__(self):
        self.second = None
        self.prefix = ""

    def __call__(self, ms: int) -> str:
        second, millis = divmod(ms, 1000)
        if second != self.second:
            self.second = second
            self.prefix = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
        return f"{self.prefix}.{millis:03d}"


# --- the generator ------------------------------------------------------------------------------

class Generator:
    def __init__(self, seed: int, rate: int):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rng = random.Random(seed)
        self.rate = rate
        self.channels = Channels(seed, self.rng)
        # Events it takes to create numInFlightAuctions auctions (used for auction lengths).
        self.events_for_auctions = NUM_IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION // AUCTION_PROPORTION

    def timestamp(self, event_number: int) -> int:
        return BASE_TIME_MS + event_number * 1000 // self.rate

    def person(self, event_id: int, ts: int) -> tuple:
        rng = self.rng
        pid = last_base0_person_id(event_id) + FIRST_PERSON_ID
        name = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))] + " " + LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        email = next_string(rng, 7) + "@" + next_string(rng, 5) + ".com"
        credit_card = " ".join(f"{rng.randrange(10000):04d}" for _ in range(4))
        city = US_CITIES[rng.randrange(len(US_CITIES))]
        state = US_STATES[rng.randrange(len(US_STATES))]
        size = 8 + len(name) + len(email) + len(credit_card) + len(city) + len(state)
        extra = next_extra(rng, size, AVG_PERSON_BYTE_SIZE)
        return (pid, name, email, credit_card, city, state, ts, extra)

    def auction(self, event_id: int, ts: int) -> tuple:
        rng = self.rng
        aid = last_base0_auction_id(event_id) + FIRST_AUCTION_ID
        if rng.randrange(HOT_SELLERS_RATIO) > 0:
            seller = (last_base0_person_id(event_id) // HOT_SELLER_BLOCK) * HOT_SELLER_BLOCK
        else:
            seller = next_base0_person_id(event_id, rng)
        seller += FIRST_PERSON_ID
        category = FIRST_CATEGORY_ID + rng.randrange(NUM_CATEGORIES)
        initial_bid = next_price(rng)
        horizon = self.timestamp(event_id + self.events_for_auctions) - ts
        expires = ts + 1 + rng.randrange(max(horizon * 2, 1))
        item_name = next_string(rng, 20)
        description = next_string(rng, 100)
        reserve = initial_bid + next_price(rng)
        size = 8 + len(item_name) + len(description) + 8 + 8 + 8 + 8 + 8
        extra = next_extra(rng, size, AVG_AUCTION_BYTE_SIZE)
        return (aid, item_name, description, initial_bid, reserve, ts, expires, seller, category, extra)

    def bid(self, event_id: int, ts: int) -> tuple:
        rng = self.rng
        if rng.randrange(HOT_AUCTION_RATIO) > 0:
            auction = (last_base0_auction_id(event_id) // HOT_AUCTION_BLOCK) * HOT_AUCTION_BLOCK
        else:
            auction = next_base0_auction_id(event_id, rng)
        auction += FIRST_AUCTION_ID
        if rng.randrange(HOT_BIDDERS_RATIO) > 0:
            bidder = (last_base0_person_id(event_id) // HOT_BIDDER_BLOCK) * HOT_BIDDER_BLOCK + 1
        else:
            bidder = next_base0_person_id(event_id, rng)
        bidder += FIRST_PERSON_ID
        price = next_price(rng)
        if rng.randrange(HOT_CHANNELS_RATIO) > 0:
            i = rng.randrange(len(HOT_CHANNELS))
            channel, url = HOT_CHANNELS[i], self.channels.hot_urls[i]
        else:
            channel, url = self.channels.channel(rng.randrange(CHANNELS_NUMBER))
        extra = next_extra(rng, 8 + 8 + 8 + 8, AVG_BID_BYTE_SIZE)
        return (auction, bidder, price, channel, url, ts, extra)

    def events(self, count: int):
        """Yields (kind, row) for events 0..count-1; kind is 'person', 'auction' or 'bid'."""
        for n in range(count):
            ts = self.timestamp(n)
            rem = n % TOTAL_PROPORTION
            if rem < PERSON_PROPORTION:
                yield "person", self.person(n, ts)
            elif rem < PERSON_PROPORTION + AUCTION_PROPORTION:
                yield "auction", self.auction(n, ts)
            else:
                yield "bid", self.bid(n, ts)


# --- output -------------------------------------------------------------------------------------

COLUMNS = {"person": PERSON_COLUMNS, "auction": AUCTION_COLUMNS, "bid": BID_COLUMNS}
TIME_COLUMNS = {"person": (6,), "auction": (5, 6), "bid": (5,)}


class JsonWriter:
    def __init__(self, path: str, kind: str):
        self.file = open(path, "w", encoding="utf-8", newline="\n")
        self.columns = COLUMNS[kind]
        self.time_columns = set(TIME_COLUMNS[kind])
        # '{"id":%s,"name":%s,...}' with each value rendered by json.dumps.
        self.template = "{" + ",".join(f'"{c}":%s' for c in self.columns) + "}\n"

    def write(self, row: tuple, fmt: TimeFormatter):
        values = []
        for i, v in enumerate(row):
            if i in self.time_columns:
                v = fmt(v)
            values.append(json.dumps(v) if isinstance(v, str) else str(v))
        self.file.write(self.template % tuple(values))

    def close(self):
        self.file.close()


class CsvWriter:
    def __init__(self, path: str, kind: str):
        self.file = open(path, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.file, lineterminator="\n")
        self.time_columns = set(TIME_COLUMNS[kind])

    def write(self, row: tuple, fmt: TimeFormatter):
        self.writer.writerow([fmt(v) if i in self.time_columns else v for i, v in enumerate(row)])

    def close(self):
        self.file.close()


def generate(events: int, seed: int, rate: int, out: str, fmt_name: str) -> dict:
    os.makedirs(out, exist_ok=True)
    writer_class = JsonWriter if fmt_name == "json" else CsvWriter
    ext = "json" if fmt_name == "json" else "csv"
    writers = {kind: writer_class(os.path.join(out, f"{kind}.{ext}"), kind) for kind in COLUMNS}
    counts = {kind: 0 for kind in COLUMNS}
    fmt = TimeFormatter()
    gen = Generator(seed, rate)
    try:
        for kind, row in gen.events(events):
            writers[kind].write(row, fmt)
            counts[kind] += 1
    finally:
        for w in writers.values():
            w.close()
    manifest = {
        "generator": "bench/nexmark/generate.py",
        "events": events,
        "seed": seed,
        "rate": rate,
        "format": fmt_name,
        "first_event_time": fmt(gen.timestamp(0)),
        "last_event_time": fmt(gen.timestamp(events - 1)) if events else None,
        "counts": counts,
        "files": {kind: f"{kind}.{ext}" for kind in COLUMNS},
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    return manifest


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1_000_000, help="number of events (default 1000000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--rate", type=int, default=10_000_000,
                   help="events per second of event time (default 10000000, nexmark-flink's TPS); "
                        "event n has time 2015-07-15 00:00:00 + floor(n*1000/rate) ms")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--format", choices=("json", "csv"), default="json")
    a = p.parse_args(argv)
    if a.events < 0:
        p.error("--events must be >= 0")
    if a.rate <= 0:
        p.error("--rate must be > 0")
    started = time.monotonic()
    manifest = generate(a.events, a.seed, a.rate, a.out, a.format)
    c = manifest["counts"]
    print(f"generated {a.events} events ({c['person']} person, {c['auction']} auction, {c['bid']} bid), "
          f"{manifest['first_event_time']} .. {manifest['last_event_time']}, into {a.out} "
          f"in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
