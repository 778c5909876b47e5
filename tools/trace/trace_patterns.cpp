#include "tools/trace/trace_patterns.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <limits>
#include <utility>

namespace heaplab {

std::size_t TraceRandom::uniform(std::size_t lo, std::size_t hi) {
  static_assert(sizeof(std::size_t) <= sizeof(std::uint64_t));
  assert(lo <= hi && "uniform() needs a non-empty range");
  const std::uint64_t range = std::uint64_t{hi - lo} + 1;  // 0 when [lo, hi] is every size_t
  if (range == 0) return static_cast<std::size_t>(engine_());
  // `draw % range` alone would favour small values whenever 2^64 is not a
  // multiple of range. Rejecting the 2^64 mod range smallest draws leaves a
  // multiple of range equally likely draws, so every value is as likely.
  const std::uint64_t rejected = (0 - range) % range;  // = 2^64 mod range
  std::uint64_t draw = engine_();
  while (draw < rejected) draw = engine_();
  return lo + static_cast<std::size_t>(draw % range);
}

std::size_t TraceRandom::log_uniform(std::size_t lo, std::size_t hi) {
  assert(1 <= lo && lo <= hi && "log_uniform() needs 1 <= lo <= hi");
  // Band k holds [2^k, 2^(k+1)); bit_width(x) - 1 is the band of x.
  const auto band_of = [](std::size_t x) { return static_cast<std::size_t>(std::bit_width(x)) - 1; };
  const std::size_t band = uniform(band_of(lo), band_of(hi));
  const std::size_t band_lo = std::size_t{1} << band;
  const std::size_t band_hi = band_lo + (band_lo - 1);  // 2^(k+1) - 1, without overflow for the top band
  return uniform(std::max(lo, band_lo), std::min(hi, band_hi));
}

void TraceRandom::shuffle(std::vector<std::size_t>& items) {
  // Fisher-Yates: item i swaps with a uniformly chosen item at or before it.
  for (std::size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[uniform(0, i - 1)]);
  }
}

namespace {

/// Records a trace as a pattern makes it, handing out fresh ids and keeping
/// the budget: an allocation costs two operations (itself and the free it
/// will need), a reallocation one, a free none (its allocation paid for it).
class TraceBuilder {
 public:
  explicit TraceBuilder(std::size_t max_ops) : max_ops_(max_ops) {}

  /// The budget: the most operations the finished trace may have.
  [[nodiscard]] std::size_t max_ops() const noexcept { return max_ops_; }
  /// Operations so far.
  [[nodiscard]] std::size_t operations() const noexcept { return trace_.ops.size(); }
  /// True if \p cost more operations fit in the budget.
  [[nodiscard]] bool fits(std::size_t cost) const noexcept {
    return trace_.ops.size() + live_ + cost <= max_ops_;
  }

  /// Appends `a id size` for a fresh id, and returns the id.
  std::size_t allocate(std::size_t size) {
    assert(fits(2) && "a pattern overspent its budget");
    const std::size_t id = trace_.id_count++;
    trace_.ops.push_back({OpKind::allocate, id, size, 0});
    ++live_;
    return id;
  }
  /// Appends `r id size`.
  void reallocate(std::size_t id, std::size_t size) {
    assert(fits(1) && "a pattern overspent its budget");
    trace_.ops.push_back({OpKind::reallocate, id, size, 0});
  }
  /// Appends `f id`.
  void free(std::size_t id) {
    assert(live_ > 0 && "a pattern freed more blocks than it allocated");
    trace_.ops.push_back({OpKind::free, id, 0, 0});
    --live_;
  }

  /// The finished trace: its header's heap size is the peak of live bytes.
  [[nodiscard]] Trace finish() && {
    assert(live_ == 0 && "every pattern frees all its blocks");
    trace_.suggested_heap_size = peak_live_bytes(trace_);
    trace_.weight = 1;
    return std::move(trace_);
  }

 private:
  Trace trace_;            ///< The operations so far; id_count is the next fresh id.
  std::size_t live_ = 0;   ///< Blocks allocated and not yet freed.
  std::size_t max_ops_;    ///< The budget.
};

/// Frees every id of \p ids, in order.
void free_all(TraceBuilder& trace, const std::vector<std::size_t>& ids) {
  for (const std::size_t id : ids) trace.free(id);
}

/// small-short-lived: the common case of most programs (temporary strings,
/// list nodes). Sizes uniform in 1-64 bytes; each block is freed 1-16
/// operations (uniform) after its allocation. At each step the oldest block
/// whose time is up is freed; if none is, a block is allocated. The few
/// live blocks are freed in allocation order at the end.
void small_short_lived(TraceRandom& random, TraceBuilder& trace) {
  struct Block {
    std::size_t id;
    std::size_t dies_at;  ///< The operation count at which it is freed.
  };
  std::vector<Block> live;  // in allocation order
  for (;;) {
    const std::size_t now = trace.operations();
    const auto due = std::find_if(live.begin(), live.end(),
                                  [now](const Block& block) { return block.dies_at <= now; });
    if (due != live.end()) {
      trace.free(due->id);
      live.erase(due);
      continue;
    }
    if (!trace.fits(2)) break;
    // Two statements, not one expression: the order of the draws must not
    // depend on how a compiler orders the evaluation of arguments.
    const std::size_t size = random.uniform(1, 64);
    const std::size_t lifetime = random.uniform(1, 16);
    live.push_back({trace.allocate(size), now + lifetime});
  }
  for (const Block& block : live) trace.free(block.id);
}

/// buildup-teardown: phases, as in a program that builds a data structure,
/// uses it and drops it. 4 rounds; each allocates max_ops / 8 blocks with
/// sizes log-uniform in 16-4096 bytes, then frees all of them in a random
/// order (every order equally likely), so the heap fills, fragments while it
/// empties, and must serve the next round from the holes.
void buildup_teardown(TraceRandom& random, TraceBuilder& trace) {
  constexpr std::size_t kRounds = 4;
  const std::size_t blocks_per_round = trace.max_ops() / (2 * kRounds);
  for (std::size_t round = 0; round < kRounds; ++round) {
    std::vector<std::size_t> ids;
    for (std::size_t i = 0; i < blocks_per_round; ++i) {
      ids.push_back(trace.allocate(random.log_uniform(16, 4096)));
    }
    random.shuffle(ids);
    free_all(trace, ids);
  }
}

/// binary-small-large: the classic case that defeats simple placement (the
/// CS:APP "binary" traces). n = max_ops / 6 pairs of a small block (uniform
/// 16-64 bytes) and a large one (uniform 384-448 bytes), allocated
/// alternately; then every large block is freed and the small ones are
/// kept, fencing the holes in; then n blocks of uniform 512-576 bytes are
/// allocated, each larger than any hole. No placement policy and no
/// coalescing can use the holes: the heap grows by all of it, and first fit
/// walks past every hole on every request. At the end the small and the new
/// blocks are freed in allocation order.
void binary_small_large(TraceRandom& random, TraceBuilder& trace) {
  const std::size_t pairs = trace.max_ops() / 6;
  std::vector<std::size_t> small;
  std::vector<std::size_t> large;
  for (std::size_t i = 0; i < pairs; ++i) {
    small.push_back(trace.allocate(random.uniform(16, 64)));
    large.push_back(trace.allocate(random.uniform(384, 448)));
  }
  free_all(trace, large);
  std::vector<std::size_t> larger;
  for (std::size_t i = 0; i < pairs; ++i) larger.push_back(trace.allocate(random.uniform(512, 576)));
  free_all(trace, small);
  free_all(trace, larger);
}

/// random-sizes: no structure at all. At each step, with equal odds (or
/// always, when nothing is live), allocate a block of log-uniform 1-16384
/// bytes, or free a live block chosen uniformly. The number of live blocks
/// is a random walk; what is live at the end is freed in id order.
void random_sizes(TraceRandom& random, TraceBuilder& trace) {
  std::vector<std::size_t> live;
  for (;;) {
    if (live.empty() || random.chance(50)) {
      if (!trace.fits(2)) break;
      live.push_back(trace.allocate(random.log_uniform(1, 16384)));
    } else {
      const std::size_t i = random.uniform(0, live.size() - 1);
      trace.free(live[i]);
      live[i] = live.back();  // order does not matter here: remove by swapping with the last
      live.pop_back();
    }
  }
  std::sort(live.begin(), live.end());
  free_all(trace, live);
}

/// growing-realloc: buffers that grow as they are filled (a vector, a
/// string being appended to). 4 buffers start at uniform 16-64 bytes. At
/// each step, 3 times in 4, a buffer chosen uniformly is reallocated to its
/// size plus uniform 16-256 bytes; otherwise a small block (uniform 8-64
/// bytes) is allocated and kept to the end, landing after the buffers and
/// in the holes they leave, which stops them growing in place. At the end the
/// buffers, then the small blocks, are freed in allocation order.
void growing_realloc(TraceRandom& random, TraceBuilder& trace) {
  constexpr std::size_t kBuffers = 4;
  if (!trace.fits(2 * kBuffers)) return;  // too short for this pattern: an empty trace
  struct Buffer {
    std::size_t id;
    std::size_t size;
  };
  std::vector<Buffer> buffers;
  for (std::size_t i = 0; i < kBuffers; ++i) {
    const std::size_t size = random.uniform(16, 64);
    buffers.push_back({trace.allocate(size), size});
  }
  std::vector<std::size_t> kept;
  for (;;) {
    if (random.chance(75)) {
      if (!trace.fits(1)) break;
      Buffer& buffer = buffers[random.uniform(0, kBuffers - 1)];
      buffer.size += random.uniform(16, 256);
      trace.reallocate(buffer.id, buffer.size);
    } else {
      if (!trace.fits(2)) break;
      kept.push_back(trace.allocate(random.uniform(8, 64)));
    }
  }
  for (const Buffer& buffer : buffers) trace.free(buffer.id);
  free_all(trace, kept);
}

/// coalesce-friendly: where merging free neighbours pays off (chapter 4).
/// n = max_ops / 12 groups, allocated one after the other: a run of 4
/// blocks (uniform 16-128 bytes each), then a fence block (uniform 16-128
/// bytes) that stays allocated. Then every run is freed left to right, so
/// each free has a free left neighbour; then one block of each run's total
/// requested bytes is allocated. A run merged into one free block serves it
/// in place; unmerged, no single block of the run is large enough and the
/// heap grows. At the end the fences, then the run-sized blocks, are freed
/// in allocation order.
void coalesce_friendly(TraceRandom& random, TraceBuilder& trace) {
  constexpr std::size_t kRun = 4;
  // Per group: kRun + 1 allocations, kRun frees, 1 allocation, 2 final frees.
  const std::size_t groups = trace.max_ops() / (2 * kRun + 4);
  std::vector<std::vector<std::size_t>> runs(groups);
  std::vector<std::size_t> run_bytes(groups, 0);
  std::vector<std::size_t> fences;
  for (std::size_t g = 0; g < groups; ++g) {
    for (std::size_t i = 0; i < kRun; ++i) {
      const std::size_t size = random.uniform(16, 128);
      runs[g].push_back(trace.allocate(size));
      run_bytes[g] += size;
    }
    fences.push_back(trace.allocate(random.uniform(16, 128)));
  }
  for (const auto& run : runs) free_all(trace, run);
  std::vector<std::size_t> merged;
  for (const std::size_t bytes : run_bytes) merged.push_back(trace.allocate(bytes));
  free_all(trace, fences);
  free_all(trace, merged);
}

/// tiny: a handful of operations for a chapter's worked example. Sizes are
/// multiples of 8 from 8 to 64 (uniform), so heap pictures stay simple, and
/// at most 3 blocks are live. At each step: allocate if nothing is live;
/// with 3 live, free (7 in 10) or reallocate (3 in 10); otherwise allocate
/// (50%), free (35%) or reallocate (15%). The block freed or reallocated is
/// chosen uniformly among the live ones; the rest are freed at the end, in
/// allocation order.
void tiny(TraceRandom& random, TraceBuilder& trace) {
  constexpr std::size_t kMaxLive = 3;
  enum class Step { allocate, free, reallocate };
  std::vector<std::size_t> live;  // in allocation order
  for (;;) {
    Step step = Step::allocate;
    if (live.size() == kMaxLive) {
      step = random.chance(70) ? Step::free : Step::reallocate;
    } else if (!live.empty()) {
      const std::size_t roll = random.uniform(0, 99);
      step = roll < 50 ? Step::allocate : roll < 85 ? Step::free : Step::reallocate;
    }
    if (step == Step::allocate) {
      if (!trace.fits(2)) break;
      live.push_back(trace.allocate(8 * random.uniform(1, 8)));
    } else if (step == Step::free) {
      const auto chosen = live.begin() + static_cast<std::ptrdiff_t>(random.uniform(0, live.size() - 1));
      trace.free(*chosen);
      live.erase(chosen);
    } else {
      if (!trace.fits(1)) break;
      const std::size_t id = live[random.uniform(0, live.size() - 1)];
      trace.reallocate(id, 8 * random.uniform(1, 8));
    }
  }
  free_all(trace, live);
}

constexpr std::array<PatternInfo, 7> kPatterns{{
    {TracePattern::small_short_lived, "small-short-lived", 4000,
     "sizes 1-64 B (uniform); each block freed 1-16 operations after its allocation"},
    {TracePattern::buildup_teardown, "buildup-teardown", 4000,
     "4 rounds: allocate ops/8 blocks of 16-4096 B (log-uniform), free them all in random order"},
    {TracePattern::binary_small_large, "binary-small-large", 3000,
     "small (16-64 B) and large (384-448 B) alternate; large freed, small kept; then 512-576 B requests"},
    {TracePattern::random_sizes, "random-sizes", 4000,
     "allocate (1-16384 B, log-uniform) or free a random live block, with equal odds"},
    {TracePattern::growing_realloc, "growing-realloc", 2000,
     "4 buffers grown by 16-256 B per reallocation; small kept blocks (8-64 B) land between them"},
    {TracePattern::coalesce_friendly, "coalesce-friendly", 2400,
     "runs of 4 neighbours (16-128 B) freed left to right, then one request per run of its total size"},
    {TracePattern::tiny, "tiny", 8,
     "a handful of operations; sizes 8-64 B in steps of 8; at most 3 live blocks"},
}};

}  // namespace

std::span<const PatternInfo> trace_patterns() noexcept { return kPatterns; }

std::optional<TracePattern> find_pattern(std::string_view name) noexcept {
  for (const PatternInfo& info : kPatterns) {
    if (info.name == name) return info.pattern;
  }
  return std::nullopt;
}

Trace generate_trace(TracePattern pattern, std::uint64_t seed, std::size_t max_ops) {
  assert(max_ops <= kMaxGeneratedOps && "generate_trace() makes at most kMaxGeneratedOps operations");
  TraceRandom random(seed);
  TraceBuilder trace(max_ops);
  switch (pattern) {
    case TracePattern::small_short_lived: small_short_lived(random, trace); break;
    case TracePattern::buildup_teardown: buildup_teardown(random, trace); break;
    case TracePattern::binary_small_large: binary_small_large(random, trace); break;
    case TracePattern::random_sizes: random_sizes(random, trace); break;
    case TracePattern::growing_realloc: growing_realloc(random, trace); break;
    case TracePattern::coalesce_friendly: coalesce_friendly(random, trace); break;
    case TracePattern::tiny: tiny(random, trace); break;
  }
  return std::move(trace).finish();
}

}  // namespace heaplab
