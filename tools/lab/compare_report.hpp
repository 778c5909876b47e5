/// \file
/// Writing a Comparison (compare.hpp) three ways: text tables for people
/// (`heaplab compare`), CSV for spreadsheets and scripts (`--csv`), and an
/// SVG chart for a browser or the docs (`--svg FILE`).
///
/// All three show speed only relative to glibc, measured in the same run:
/// an absolute time says more about the machine than about the allocator.
#pragma once

#include <iosfwd>

#include "tools/lab/compare.hpp"

namespace heaplab {

/// Writes \p comparison as text: one table per trace (an allocator a row;
/// a failed replay shows its reason instead of numbers), a summary table
/// (mean utilization over the traces each allocator completed, geometric
/// mean speed vs glibc) and a legend of the columns.
void write_compare_table(std::ostream& out, const Comparison& comparison);

/// Writes \p comparison as CSV (RFC 4180): a header row, then one row per
/// trace and allocator. Numbers are written in full (ratios as ratios, not
/// percentages; bytes as whole numbers); a missing measure is an empty cell.
void write_compare_csv(std::ostream& out, const Comparison& comparison);

/// Writes \p comparison as one self-contained SVG image: bars of
/// utilization per trace and allocator, and below them bars of speed vs
/// glibc, with axes, labels and a legend. The same comparison always gives
/// the same bytes, but for the speeds (and the speed axis they scale).
/// Defined in compare_svg.cpp.
void write_compare_svg(std::ostream& out, const Comparison& comparison);

}  // namespace heaplab
