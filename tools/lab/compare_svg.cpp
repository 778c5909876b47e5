// write_compare_svg() (compare_report.hpp): a Comparison as one SVG image,
// written by hand so the lab needs no plotting library.
//
//    heaplab compare: ...                               Allocators
//    Utilization                                        [#] first-fit
//    100% |  _                                          [#] best-fit
//         | | |_   _                                    [#] glibc
//      0% +-+-+-+-+-+----                               x: replay failed
//          trace-a  trace-b                             ...
//    Speed vs glibc (log scale)
//    10x  |      _
//     1x  |-_---| |---- glibc      bars up: faster than glibc
//         | |                      bars down: slower
//   0.1x  +-------------
//          trace-a  trace-b
//
// A group of bars per trace, one bar per allocator in the comparison's
// order and colour; hovering over a bar shows its exact value (an SVG
// <title>). Speed is a ratio, so its axis is logarithmic: 2x and 0.5x lie
// as far above and below glibc's 1x.
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/lab/compare_report.hpp"
#include "tools/lab/text_report.hpp"

namespace heaplab {
namespace {

// The layout, in pixels.
constexpr double kMarginLeft = 80;      // room for the tick labels and the axis title
constexpr double kMarginTop = 60;       // room for the title and the first panel's title
constexpr double kPanelHeight = 200;    // height of one panel's plot area
constexpr double kPanelGap = 90;        // trace labels of one panel, title of the next
constexpr double kMarginBottom = 60;    // trace labels and the x axis title
constexpr double kBarWidth = 10;        // one allocator's bar
constexpr double kBarGap = 2;           // between two bars of a group
constexpr double kMinGroupWidth = 130;  // wide enough for a trace name under the group
constexpr double kGroupPadding = 12;    // on each side of a group of bars
constexpr double kLegendGap = 50;       // between the plot areas and the legend
constexpr double kLegendWidth = 300;    // the legend's longest line
constexpr double kLegendLine = 18;      // one line of the legend

/// Bar colours, in the comparison's order of allocators (Tableau 10);
/// glibc, the reference, is always grey.
constexpr std::array<std::string_view, 10> kPalette = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                                       "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#17becf"};
constexpr std::string_view kGlibcColour = "#555555";

/// A coordinate or a length, with one decimal (the same bytes on every run).
std::string px(double value) { return fixed(value, 1); }

/// \p text with the five characters XML reserves escaped.
std::string escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

/// \p value without needless digits, for a tick of an axis: 60 is "60",
/// 0.5 is "0.5", 0.001 is "0.001".
std::string trimmed(double value) {
  std::string text = fixed(value, 6);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

/// The colour of the allocator in column \p column of \p comparison.
std::string_view colour(const Comparison& comparison, std::size_t column) {
  if (comparison.allocators[column] == &glibc_allocator()) return kGlibcColour;
  return kPalette[column % kPalette.size()];
}

/// One panel of bars: a value per trace and allocator, on a linear or a
/// logarithmic axis. Bars start at the baseline and reach their value, up
/// or down.
struct Panel {
  std::string title;          ///< Above the panel.
  std::string axis_title;     ///< Beside the y axis.
  double top = 0;             ///< The y coordinate of the plot area's top.
  bool logarithmic = false;   ///< Whether equal ratios (rather than differences) take equal heights.
  double axis_min = 0;        ///< The value at the bottom of the axis (above 0 if logarithmic).
  double axis_max = 1;        ///< The value at the top of the axis.
  double baseline = 0;        ///< The value bars start from.
  std::vector<double> ticks;  ///< The values labelled on the axis, with a grid line each.
  std::optional<double> (*value_of)(const AllocatorResult&) = nullptr;  ///< A bar's value, if it has one.
  std::string (*label)(double) = nullptr;       ///< A bar's value as text, as the tables write it.
  std::string (*tick_label)(double) = nullptr;  ///< A tick's value as text.

  /// The y coordinate of \p value (clamped to the axis).
  [[nodiscard]] double y(double value) const {
    const auto scaled = [this](double v) { return logarithmic ? std::log10(v) : v; };
    const double fraction = (scaled(std::clamp(value, axis_min, axis_max)) - scaled(axis_min)) /
                            (scaled(axis_max) - scaled(axis_min));
    return bottom() - kPanelHeight * fraction;
  }
  /// The y coordinate of the plot area's bottom.
  [[nodiscard]] double bottom() const { return top + kPanelHeight; }
};

/// The geometry of the chart: where each trace's group of bars goes.
struct Layout {
  double bars_width = 0;   ///< Width of the bars of one group, side by side.
  double group_width = 0;  ///< Width of one trace's group: its bars and the space around them.
  double plot_right = 0;   ///< The x coordinate of the plot areas' right edge.

  /// A layout for \p comparison.
  explicit Layout(const Comparison& comparison)
      : bars_width(static_cast<double>(comparison.allocators.size()) * (kBarWidth + kBarGap) - kBarGap),
        group_width(std::max(kMinGroupWidth, bars_width + 2 * kGroupPadding)),
        plot_right(kMarginLeft + group_width * static_cast<double>(comparison.traces.size())) {}
  /// The x coordinate of the left edge of group \p trace.
  [[nodiscard]] double group_left(std::size_t trace) const {
    return kMarginLeft + group_width * static_cast<double>(trace);
  }
  /// The x coordinate of bar \p column of group \p trace.
  [[nodiscard]] double bar_left(std::size_t trace, std::size_t column) const {
    return group_left(trace) + (group_width - bars_width) / 2 + static_cast<double>(column) * (kBarWidth + kBarGap);
  }
};

/// A trace's short name, for the x axis: its file name without the extension.
std::string short_name(const TraceComparison& trace) {
  return std::filesystem::path(trace.trace->name).stem().string();
}

/// The utilization panel: 0 to 100%.
Panel utilization_panel() {
  return {.title = "Utilization: peak live requested bytes / peak heap (higher is better)",
          .axis_title = "utilization",
          .top = kMarginTop,
          .logarithmic = false,
          .axis_min = 0,
          .axis_max = 1,
          .baseline = 0,
          .ticks = {0, 0.2, 0.4, 0.6, 0.8, 1},
          .value_of = [](const AllocatorResult& result) { return result.report.space.utilization; },
          .label = format_percent,
          .tick_label = [](double value) { return trimmed(value * 100) + "%"; }};
}

/// The speed panel: powers of ten around glibc's 1x, from the slowest to
/// the fastest allocator (at least 0.1x to 10x).
Panel speed_panel(const Comparison& comparison) {
  double slowest = 0.1;
  double fastest = 10;
  for (const TraceComparison& trace : comparison.traces) {
    for (const AllocatorResult& result : trace.results) {
      if (!result.speed_vs_glibc) continue;
      slowest = std::min(slowest, *result.speed_vs_glibc);
      fastest = std::max(fastest, *result.speed_vs_glibc);
    }
  }
  const int lowest_power = static_cast<int>(std::floor(std::log10(slowest)));
  const int highest_power = static_cast<int>(std::ceil(std::log10(fastest)));
  Panel panel{.title = "Speed vs glibc: glibc's time / the allocator's time (log scale; up is faster than glibc)",
              .axis_title = "speed vs glibc",
              .top = kMarginTop + kPanelHeight + kPanelGap,
              .logarithmic = true,
              .axis_min = std::pow(10.0, lowest_power),
              .axis_max = std::pow(10.0, highest_power),
              .baseline = 1,
              .ticks = {},
              .value_of = [](const AllocatorResult& result) { return result.speed_vs_glibc; },
              .label = format_speed,
              .tick_label = [](double value) { return trimmed(value) + "x"; }};
  for (int power = lowest_power; power <= highest_power; ++power) panel.ticks.push_back(std::pow(10.0, power));
  return panel;
}

/// ` name="value"`: one attribute of an element, \p value escaped.
std::string attr(std::string_view name, std::string_view value) {
  return std::string(" ").append(name).append("=\"").append(escaped(value)).append("\"");
}

/// ` name="12.5"`: a coordinate or a length.
std::string attr(std::string_view name, double value) { return attr(name, px(value)); }

/// `<title>`: the text a browser shows when the pointer rests on an element.
std::string tooltip(std::string_view text) { return "<title>" + escaped(text) + "</title>"; }

/// Writes \p text at (\p x, \p y), with \p more attributes (attr()) and
/// \p inside after the text (a tooltip()).
void write_text(std::ostream& out, double x, double y, std::string_view text, std::string_view more = "",
                std::string_view inside = "") {
  out << "<text" << attr("x", x) << attr("y", y) << more << '>' << escaped(text) << inside << "</text>\n";
}

/// Writes a rectangle at (\p x, \p y) of \p width x \p height filled with
/// \p fill, and \p inside it (a tooltip()).
void write_rect(std::ostream& out, double x, double y, double width, double height, std::string_view fill,
                std::string_view inside = "") {
  out << "<rect" << attr("x", x) << attr("y", y) << attr("width", width) << attr("height", height)
      << attr("fill", fill) << '>' << inside << "</rect>\n";
}

/// Writes a horizontal line at \p y across the plot area, with \p more attributes.
void write_across(std::ostream& out, const Layout& layout, double y, std::string_view more) {
  out << "<line" << attr("x1", kMarginLeft) << attr("y1", y) << attr("x2", layout.plot_right) << attr("y2", y)
      << more << "/>\n";
}

/// Writes \p panel's title, grid, tick labels and axes.
void write_axes(std::ostream& out, const Panel& panel, const Layout& layout) {
  write_text(out, kMarginLeft, panel.top - 14, panel.title, attr("font-weight", "bold"));
  for (const double value : panel.ticks) {
    write_across(out, layout, panel.y(value), attr("stroke", "#dddddd"));
    write_text(out, kMarginLeft - 6, panel.y(value) + 4, panel.tick_label(value), attr("text-anchor", "end"));
  }
  const std::string corner_points = px(kMarginLeft) + ',' + px(panel.top) + ' ' + px(kMarginLeft) + ',' +
                                    px(panel.bottom()) + ' ' + px(layout.plot_right) + ',' + px(panel.bottom());
  out << "<polyline" << attr("points", corner_points) << attr("fill", "none") << attr("stroke", "#000000")
      << "/>\n";
  const double middle = panel.top + kPanelHeight / 2;
  write_text(out, 20, middle, panel.axis_title,
             attr("text-anchor", "middle") + attr("transform", "rotate(-90 20 " + px(middle) + ")"));
}

/// Writes the bar (or the failure mark) of \p result in group \p trace.
void write_bar(std::ostream& out, const Panel& panel, const Layout& layout, const Comparison& comparison,
               std::size_t trace, std::size_t column) {
  const AllocatorResult& result = comparison.traces[trace].results[column];
  const double x = layout.bar_left(trace, column);
  const std::string who = std::string(result.allocator->name) + " on " + short_name(comparison.traces[trace]);
  if (!result.completed()) {
    write_text(out, x + kBarWidth / 2, panel.bottom() - 3, "x",
               attr("text-anchor", "middle") + attr("font-weight", "bold") + attr("fill", "#cc0000"),
               tooltip(who + ": " + result.report.what));
    return;
  }
  const std::optional<double> value = panel.value_of(result);
  if (!value) return;  // not measurable: the legend says why
  const double end = panel.y(*value);
  const double start = panel.y(panel.baseline);
  write_rect(out, x, std::min(start, end), kBarWidth, std::abs(start - end), colour(comparison, column),
             tooltip(who + ": " + panel.label(*value)));
}

/// Writes one whole panel: axes, bars, the trace names under the groups.
void write_panel(std::ostream& out, const Panel& panel, const Layout& layout, const Comparison& comparison) {
  write_axes(out, panel, layout);
  for (std::size_t trace = 0; trace < comparison.traces.size(); ++trace) {
    for (std::size_t column = 0; column < comparison.allocators.size(); ++column) {
      write_bar(out, panel, layout, comparison, trace, column);
    }
    write_text(out, layout.group_left(trace) + layout.group_width / 2, panel.bottom() + 18,
               short_name(comparison.traces[trace]), attr("text-anchor", "middle"));
  }
}

/// Writes the dashed line at 1x on the speed panel: glibc itself.
void write_glibc_line(std::ostream& out, const Panel& speed, const Layout& layout) {
  write_across(out, layout, speed.y(1.0), attr("stroke", kGlibcColour) + attr("stroke-dasharray", "6 4"));
  write_text(out, layout.plot_right + 4, speed.y(1.0) + 4, "glibc");
}

/// Writes the legend right of the panels: a swatch per allocator, then the marks.
void write_legend(std::ostream& out, const Layout& layout, const Comparison& comparison) {
  const double x = layout.plot_right + kLegendGap;
  double y = kMarginTop;
  write_text(out, x, y - 14, "Allocators", attr("font-weight", "bold"));
  for (std::size_t column = 0; column < comparison.allocators.size(); ++column) {
    const LabAllocator& allocator = *comparison.allocators[column];
    write_rect(out, x, y - 10, 12, 12, colour(comparison, column));
    write_text(out, x + 18, y, std::string(allocator.name) + " (" + std::string(allocator.chapter) + ")");
    y += kLegendLine;
  }
  y += kLegendLine / 2;
  constexpr std::array<std::string_view, 5> kNotes = {
      "x: the replay failed (the table says why)",
      "No utilization for glibc and pmr-pool:",
      "they run on the process heap, not the lab's.",
      "Speed: glibc is the dashed line at 1x.",
      "Hover over a bar for its exact value."};
  for (const std::string_view note : kNotes) {
    write_text(out, x, y, note);
    y += kLegendLine;
  }
}

}  // namespace

void write_compare_svg(std::ostream& out, const Comparison& comparison) {
  const Layout layout(comparison);
  const Panel utilization = utilization_panel();
  const Panel speed = speed_panel(comparison);
  const double width = layout.plot_right + kLegendGap + kLegendWidth;
  const double height = speed.bottom() + kMarginBottom;
  out << "<svg" << attr("xmlns", "http://www.w3.org/2000/svg") << attr("width", width) << attr("height", height)
      << attr("viewBox", "0 0 " + px(width) + ' ' + px(height)) << attr("font-family", "sans-serif")
      << attr("font-size", "12") << ">\n";
  write_rect(out, 0, 0, width, height, "#ffffff");  // a white page, whatever the viewer's background
  write_text(out, kMarginLeft, 22,
             "heaplab compare: " + counted(comparison.allocators.size(), "allocator") + " on " +
                 counted(comparison.traces.size(), "trace") + ", heap " + format_bytes(comparison.heap_size),
             attr("font-size", "15") + attr("font-weight", "bold"));
  write_panel(out, utilization, layout, comparison);
  write_panel(out, speed, layout, comparison);
  write_glibc_line(out, speed, layout);
  write_text(out, (kMarginLeft + layout.plot_right) / 2, speed.bottom() + 44, "trace", attr("text-anchor", "middle"));
  write_legend(out, layout, comparison);
  out << "</svg>\n";
}

}  // namespace heaplab
