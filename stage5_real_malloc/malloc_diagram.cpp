#include "stage5_real_malloc/malloc_diagram.hpp"

#include <algorithm>
#include <vector>

#include "stage1_static_bump/heap_diagram.hpp"

namespace heaplab {

std::string describe_size_class(std::size_t index) {
  const std::size_t low = SizeClasses::smallest_block(index);
  if (index < SizeClasses::kExactClasses) return std::to_string(low) + " B";
  return std::to_string(low) + "-" + std::to_string(2 * low - 1) + " B";  // the last class wraps to SIZE_MAX
}

std::string draw_class_lists(const BlockHeap& heap, std::span<const LinkedFreeList* const> lists) {
  const BlockHeap* const regions[] = {&heap};
  std::vector<std::string> labels;
  std::vector<std::string> lines;
  for (std::size_t index = 0; index < lists.size(); ++index) {
    if (lists[index]->empty()) continue;
    std::string number = std::to_string(index);
    if (number.size() < 2) number.insert(0, 1, ' ');  // so that two-digit classes line up
    labels.push_back("class " + number + " (" + describe_size_class(index) + "):");
    lines.push_back(draw_free_list(regions, *lists[index]));
  }
  if (lines.empty()) return "free lists: every class empty";
  std::size_t widest = 0;
  for (const std::string& label : labels) widest = std::max(widest, label.size());
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i != 0) out += '\n';
    out += labels[i] + std::string(widest - labels[i].size() + 2, ' ') + lines[i];
  }
  return out;
}

std::string draw_quick_lists(const BlockHeap& heap, const QuickLists& quick) {
  std::string out;
  std::size_t size = 0;  // of the list being written
  std::size_t count = 0;
  std::string blocks;
  const auto end_line = [&] {
    if (count == 0) return;
    if (!out.empty()) out += '\n';
    out += "quick list " + std::to_string(size) + " B (" + std::to_string(count) + " of " +
           std::to_string(QuickLists::kCap) + "):  " + blocks;
  };
  quick.for_each([&](BlockHeader& block) {  // list by list, smallest size first, each from its head
    if (block_size(block) != size) {
      end_line();
      size = block_size(block);
      count = 0;
      blocks.clear();
    }
    blocks += (count++ == 0 ? "" : " -> ") + format_offset(heap.offset_of(&block));
  });
  end_line();
  return out.empty() ? "quick lists: all empty" : out;
}

}  // namespace heaplab
