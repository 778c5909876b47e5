#include "stage1_static_bump/assert.hpp"

#include <cstdlib>

#include "stage1_static_bump/line.hpp"

namespace heaplab {

void assertion_failed(std::string_view condition, std::string_view why, std::string_view file,
                      unsigned line) noexcept {
  Line report;
  report << "heaplab: assertion failed: " << condition << " (" << why << ") at " << file << ":"
         << std::size_t{line} << "\n";
  report.write_to(2);
  std::abort();
}

}  // namespace heaplab
