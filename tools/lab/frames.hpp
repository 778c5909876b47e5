/// \file
/// The heap after every step of a trace, as data: what `heaplab map --html`
/// shows in the browser (map_page.hpp).
///
/// frames_replay() runs a trace like map_replay() and, after every
/// operation, writes one line of JSON: the operation, the live bytes the
/// trace holds, and every block of the allocator's block walk:
///
///     {"op":"a 1 48","line":6,"live":88,"blocks":[[0,0,56,1,0,40,16,0,0],[0,56,64,0,-1,0,16,0,8]]}
///
/// A block is [region, offset, size, allocated (1) or free (0), the trace id
/// it serves (-1 when not known), the bytes that id asked for, its header,
/// footer and link bytes (BlockView)]. The walk
/// says nothing of which request a block serves; within one region blocks
/// come in address order, so on a one-region heap whose walk shows as many
/// allocated blocks as the trace holds live, the k-th allocated block is
/// the k-th live block by address. Elsewhere (several regions, blocks a
/// cache keeps allocated) the id is -1.
#pragma once

#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "tools/lab/replay.hpp"
#include "tools/trace/trace.hpp"

namespace heaplab {

/// One block of a frame: the walk's view and the request it serves.
struct FrameBlock {
  BlockView view;              ///< As the block walk gives it.
  long long id = -1;           ///< The trace id it serves, -1 when not known.
  std::size_t requested = 0;   ///< The bytes that id asked for (0 when not known).
};

/// A live block of the trace: where it is, its id and its size.
struct LiveRequest {
  const void* pointer;    ///< Its address.
  std::size_t id;         ///< Its trace id.
  std::size_t requested;  ///< The bytes it asked for.
};

/// \p blocks, each allocated one matched with the request it serves when
/// that is known (see the file comment); \p live in any order.
[[nodiscard]] std::vector<FrameBlock> match_requests(std::span<const BlockView> blocks, std::vector<LiveRequest> live);

/// One frame as a line of JSON (see the file comment), without the newline.
[[nodiscard]] std::string frame_json(const TraceOp& op, std::size_t live_bytes, std::span<const FrameBlock> blocks);

/// \p text as a JSON string, quotes included; `</` is written `<\/`, so
/// that the string can sit inside an HTML script element.
[[nodiscard]] std::string json_string(std::string_view text);

/// Runs \p trace on \p allocator and writes a frame (frame_json()) to
/// \p out after every operation; stops at an operation the allocator cannot
/// serve. Returns the number of operations run, counting them in
/// \p progress when it is not null.
template <Allocator A>
std::size_t frames_replay(const Trace& trace, A& allocator, std::ostream& out, ReplayProgress* progress = nullptr) {
  ReplaySlots slots(trace.id_count);
  std::vector<BlockView> blocks;
  std::vector<LiveRequest> live;
  const std::size_t done =
      run_ops(trace, allocator, slots, [&, done_so_far = std::size_t{0}](const TraceOp& op) mutable {
        blocks.clear();
        allocator.for_each_block([&blocks](const BlockView& block) { blocks.push_back(block); });
        live.clear();
        std::size_t live_bytes = 0;
        slots.for_each_live([&](std::size_t id, const void* p, std::size_t size) {
          live.push_back({p, id, size});
          live_bytes += size;
        });
        out << frame_json(op, live_bytes, match_requests(blocks, live)) << '\n';
        if (progress != nullptr) progress->store(++done_so_far, std::memory_order_relaxed);
      });
  detail::release_live(allocator, slots);
  return done;
}

}  // namespace heaplab
