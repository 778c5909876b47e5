/// \file
/// `heaplab map --html FILE TRACE ALLOCATOR...`: one self-contained HTML
/// page that shows the heaps of one or several allocators side by side on
/// the same trace, step by step.
///
///     [|<] [<] [play] [>] [>|]  ======o===========  step 6 of 10: line 10: f 0
///
///     first-fit   heap 312 B  live 96 B  utilization 43.6%  2 free, largest 64 B
///     |####::|      |#####|######::|        <- blocks to scale: asked-for bytes
///                                              dark, overhead light, free grey
///     best-fit    ...
///
/// The page holds its data (the frames of frames.hpp, one list per
/// allocator) and its script: no network, no framework. Hovering over a
/// block shows its fields and the request it serves, clicking keeps them in
/// the panel below; each heap has a small chart of its size and of the live
/// bytes over the whole trace, the current step marked.
///
/// Every block element carries data-state ("A" or "F") and data-size, and
/// the page exposes `heaplabMap.go(step)`: a browser test steps through the
/// page and compares what it shows with `heaplab map`.
#pragma once

#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace heaplab {

/// One allocator's part of a map page.
struct MapPageHeap {
  std::string_view name;  ///< The allocator's lab name.
  std::string frames;     ///< Its frames, one JSON object per line (frames_replay()).
  std::string stopped;    ///< Why its run ended early, shown after its last frame; empty when it ran to the end.
};

/// Writes the page for \p trace_name (\p op_count operations) showing
/// \p heaps to \p out.
void write_map_page(std::ostream& out, std::string_view trace_name, std::size_t op_count,
                    std::span<const MapPageHeap> heaps);

}  // namespace heaplab
