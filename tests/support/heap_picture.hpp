/// \file
/// A few lines that show any allocator's heap, for a failure message: every
/// block of its for_each_block() walk with its offset, its state and its
/// size, the block where check() found a broken invariant marked:
///
///     region 0: $0000 A 48      $0030 F 976     $0400 A 32 <-- check()
///               $0420 F 260064
///     ... and 97 more blocks
///
/// (`A` allocated, `F` free; offsets in hexadecimal, as every heap picture
/// of the course labels them, sizes in decimal bytes.) Unlike
/// draw_block_map() (stage1_static_bump/heap_diagram.hpp), which draws one
/// line for `heaplab map`, it names offsets and regions: a grader's message
/// must say *where*, since the learner goes on to look there.
#pragma once

#include <algorithm>
#include <cstddef>
#include <ios>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/heap_diagram.hpp"

namespace heaplab::testing {

/// Blocks a picture shows before it summarises the rest.
inline constexpr std::size_t kPictureBlocks = 32;
/// Blocks per line of a picture.
inline constexpr std::size_t kPictureBlocksPerLine = 4;
/// Visits after which a block walk is taken to be going round in circles
/// (a broken heap may link a block to itself): far more than any test heap holds.
inline constexpr std::size_t kWalkLimit = 1'000'000;

/// Thrown out of a block walk that would not end.
struct EndlessWalk {};

/// Every block of \p heap's walk, in walk order. A walk of more than
/// kWalkLimit blocks is cut there (by throwing EndlessWalk through the
/// walk; an allocator whose walk is noexcept then stops the program, which
/// the test reports as a crash instead of hanging).
template <Allocator A>
[[nodiscard]] std::vector<BlockView> walk_blocks(const A& heap, bool* cut = nullptr) {
  std::vector<BlockView> blocks;
  try {
    heap.for_each_block([&blocks](const BlockView& block) {
      if (blocks.size() == kWalkLimit) throw EndlessWalk{};
      blocks.push_back(block);
    });
  } catch (const EndlessWalk&) {
    if (cut != nullptr) *cut = true;
  }
  return blocks;
}

/// The picture of \p blocks (see the file comment): at most \p max_blocks
/// of them, the one holding \p marked's offset (a failed check()) marked
/// and, when it lies past the first \p max_blocks, shown with the blocks
/// around it.
[[nodiscard]] inline std::string draw_heap_picture(const std::vector<BlockView>& blocks,
                                                   std::optional<CheckResult> marked = std::nullopt,
                                                   std::size_t max_blocks = kPictureBlocks) {
  if (blocks.empty()) return "(the block walk visits no block)\n";
  const auto holds_mark = [&marked](const BlockView& block) {
    return marked && marked->region == block.region && marked->offset >= block.offset &&
           marked->offset < block.offset + std::max<std::size_t>(block.size, 1);
  };
  // The window shown: the first max_blocks, or, when the marked block lies
  // past them, max_blocks around it, so that the picture shows where.
  std::size_t first = 0;
  const auto mark = std::find_if(blocks.begin(), blocks.end(), holds_mark);
  if (mark != blocks.end() && static_cast<std::size_t>(mark - blocks.begin()) >= max_blocks) {
    first = std::min(static_cast<std::size_t>(mark - blocks.begin()) - max_blocks / 2, blocks.size() - max_blocks);
  }
  const std::size_t shown = std::min(blocks.size() - first, max_blocks);
  std::ostringstream out;
  if (first > 0) out << "... " << first << " blocks before\n";
  std::optional<std::size_t> region;
  std::size_t on_line = 0;
  for (std::size_t i = first; i < first + shown; ++i) {
    const BlockView& block = blocks[i];
    if (block.region != region || on_line == kPictureBlocksPerLine) {
      if (region) out << '\n';
      if (block.region != region) {
        out << "region " << block.region << ": ";
      } else {
        out << std::string(std::string("region ").size() + std::to_string(block.region).size() + 2, ' ');
      }
      region = block.region;
      on_line = 0;
    }
    std::ostringstream cell;
    cell << format_offset(block.offset) << ' ' << (block.state == BlockState::free ? 'F' : 'A') << ' '
         << block.size;
    if (holds_mark(block)) cell << " <-- check()";
    std::string text = cell.str();
    if (text.size() < 16) text.resize(16, ' ');
    out << text << ' ';
    ++on_line;
  }
  out << '\n';
  std::string lines = out.str();
  for (std::size_t at = lines.find(" \n"); at != std::string::npos; at = lines.find(" \n")) lines.erase(at, 1);
  out.str(lines);
  out.seekp(0, std::ios_base::end);
  if (blocks.size() > first + shown) out << "... and " << blocks.size() - first - shown << " more blocks\n";
  return out.str();
}

/// draw_heap_picture() of \p heap's own walk.
template <Allocator A>
[[nodiscard]] std::string draw_heap_picture(const A& heap, std::optional<CheckResult> marked = std::nullopt) {
  bool cut = false;
  std::string picture = draw_heap_picture(walk_blocks(heap, &cut), marked);
  if (cut) picture += "(the walk was stopped after " + std::to_string(kWalkLimit) + " blocks: it goes round in circles)\n";
  return picture;
}

}  // namespace heaplab::testing
