// heaplab: the strategy lab's command line (`heaplab --help` for the usage).
//
// All of it lives in tools/lab/cli.cpp, where the tests can run it without
// starting a process; main only hands over the arguments.
#include <iostream>
#include <string_view>
#include <vector>

#include "tools/lab/cli.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  return heaplab::run_heaplab(args, std::cout, std::cerr);
}
