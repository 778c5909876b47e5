#include "tools/lab/frames.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace heaplab {

std::vector<FrameBlock> match_requests(std::span<const BlockView> blocks, std::vector<LiveRequest> live) {
  std::vector<FrameBlock> frame;
  frame.reserve(blocks.size());
  bool one_region = true;
  std::size_t allocated = 0;
  for (const BlockView& block : blocks) {
    frame.push_back({block, -1, 0});
    one_region = one_region && block.region == 0;
    if (block.state == BlockState::allocated) ++allocated;
  }
  if (!one_region || allocated != live.size()) return frame;
  std::ranges::sort(live, std::less<>{}, &LiveRequest::pointer);
  std::size_t next = 0;
  for (FrameBlock& block : frame) {
    if (block.view.state != BlockState::allocated) continue;
    block.id = static_cast<long long>(live[next].id);
    block.requested = live[next].requested;
    ++next;
  }
  return frame;
}

std::string json_string(std::string_view text) {
  std::string quoted = "\"";
  char previous = '\0';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (c == '/' && previous == '<') {
      quoted += "\\/";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      quoted += escaped;
    } else {
      quoted += c;
    }
    previous = c;
  }
  return quoted + "\"";
}

std::string frame_json(const TraceOp& op, std::size_t live_bytes, std::span<const FrameBlock> blocks) {
  std::string json = "{\"op\":" + json_string(detail::op_text(op)) + ",\"line\":" + std::to_string(op.line) +
                     ",\"live\":" + std::to_string(live_bytes) + ",\"blocks\":[";
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const FrameBlock& block = blocks[i];
    if (i != 0) json += ',';
    json += '[' + std::to_string(block.view.region) + ',' + std::to_string(block.view.offset) + ',' +
            std::to_string(block.view.size) + ',' + (block.view.state == BlockState::allocated ? '1' : '0') + ',' +
            std::to_string(block.id) + ',' + std::to_string(block.requested) + ',' +
            std::to_string(block.view.header) + ',' + std::to_string(block.view.footer) + ',' +
            std::to_string(block.view.links) + ']';
  }
  return json + "]}";
}

}  // namespace heaplab
