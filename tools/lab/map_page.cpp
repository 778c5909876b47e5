#include "tools/lab/map_page.hpp"

#include "tools/lab/frames.hpp"

namespace heaplab {
namespace {

/// The page up to its data: the style and the fixed markup.
constexpr std::string_view kHead = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>heaplab map</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 0.3em; }
  #controls { position: sticky; top: 0; background: #fff; padding: 0.5em 0; border-bottom: 1px solid #ddd; }
  #controls button { min-width: 2.5em; }
  #slider { width: 30em; vertical-align: middle; }
  #op { font-family: monospace; }
  .heap { margin: 1em 0; }
  .heap h2 { font-size: 1.05em; margin: 0; font-family: monospace; }
  .measures { color: #444; margin: 0.2em 0; }
  .stopped { color: #a00; }
  svg.blocks { width: 100%; height: 46px; display: block; background: #fafafa; border: 1px solid #ddd; }
  svg.blocks rect { shape-rendering: crispEdges; stroke: #fff; stroke-width: 0.5; }
  svg.blocks g.block { cursor: pointer; }
  svg.blocks g.selected rect { stroke: #d60; stroke-width: 2; }
  .asked { fill: #2f5f9e; }
  .padding { fill: #9db7dc; }
  .body { fill: #5b83bd; }
  .free { fill: #d7d7d7; }
  .tag { fill: #4a4a4a; }
  .links { fill: #e39b3a; }
  svg.chart { width: 320px; height: 64px; border: 1px solid #ddd; background: #fff; }
  svg.chart polyline { fill: none; stroke-width: 1.5; }
  svg.chart .heap-line { stroke: #9db7dc; }
  svg.chart .live-line { stroke: #2f5f9e; }
  svg.chart line { stroke: #d60; }
  #details { font-family: monospace; white-space: pre-wrap; min-height: 3em; border-left: 3px solid #d60; padding-left: 0.6em; }
  .legend span { display: inline-block; width: 1em; height: 1em; vertical-align: middle; margin: 0 0.2em 0 0.8em; }
</style>
</head>
<body>
<h1>heaplab map</h1>
<p id="what"></p>
<div id="controls">
  <button id="first" title="first step">|&lt;</button><button id="prev" title="previous step (left arrow)">&lt;</button><button id="play">play</button><button id="next" title="next step (right arrow)">&gt;</button><button id="last" title="last step">&gt;|</button>
  <input id="slider" type="range" min="0" max="0" value="0">
  <span id="step"></span> <span id="op"></span>
</div>
<p class="legend">Blocks to scale, in address order:<span style="background:#4a4a4a"></span>header or footer
<span style="background:#2f5f9e"></span>bytes asked for
<span style="background:#9db7dc"></span>rounding and padding
<span style="background:#5b83bd"></span>allocated (request not known)
<span style="background:#e39b3a"></span>free-list links
<span style="background:#d7d7d7"></span>free. Hover over a block for its fields; click to keep them below.</p>
<div id="heaps"></div>
<div id="details">Click a block to see its fields here.</div>
<script type="application/json" id="heaplab-data">)html";

/// The page after its data: the viewer.
constexpr std::string_view kTail = R"html(</script>
<script>
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("heaplab-data").textContent);
  const svgNs = "http://www.w3.org/2000/svg";
  const steps = data.ops;
  let step = 0;
  let timer = null;

  function bytes(n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1024 / 1024).toFixed(1) + " MiB";
  }
  function hex(n) { return "$" + n.toString(16).toUpperCase().padStart(3, "0"); }
  function element(name, attributes, parent) {
    const node = document.createElementNS(svgNs, name);
    for (const key in attributes) node.setAttribute(key, attributes[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  // The measures of every frame of one heap, over the trace so far.
  function measure(heap) {
    let peakLive = 0, peakHeap = 0;
    heap.measures = heap.frames.map(function (frame) {
      let size = 0, free = 0, largest = 0;
      for (const b of frame.blocks) {
        size += b[2];
        if (b[3] === 0) { free += 1; largest = Math.max(largest, b[2]); }
      }
      peakLive = Math.max(peakLive, frame.live);
      peakHeap = Math.max(peakHeap, size);
      return { heap: size, live: frame.live, free: free, largest: largest,
               utilization: peakHeap === 0 ? 0 : peakLive / peakHeap };
    });
    // Where each region starts on the drawing: after the largest extent of
    // the regions before it over the whole trace, with a gap.
    const extent = [];
    for (const frame of heap.frames) {
      for (const b of frame.blocks) extent[b[0]] = Math.max(extent[b[0]] || 0, b[1] + b[2]);
    }
    heap.regionStart = [];
    let at = 0;
    for (let r = 0; r < extent.length; ++r) { heap.regionStart[r] = at; at += (extent[r] || 0) + 32; }
    heap.width = Math.max(at - 32, 1);
  }

  // The parts of block b, in address order, as [part, bytes]: header,
  // then the links and free bytes of a free block, or the bytes asked for
  // and the rounding and padding after them (or the whole payload when the
  // request is not known), then the footer. Their bytes add up to the block.
  function parts(b) {
    const [size, allocated, id, requested, header, footer, links] = [b[2], b[3] === 1, b[4], b[5], b[6], b[7], b[8]];
    const inside = size - header - footer;
    const list = [["header", header]];
    if (!allocated) {
      list.push(["links", links], ["free", inside - links]);
    } else if (id >= 0) {
      list.push(["asked", requested], ["padding", inside - requested]);
    } else {
      list.push(["body", inside]);
    }
    list.push(["footer", footer]);
    return list.filter(function (part) { return part[1] > 0; });
  }

  function describe(heap, b) {
    const state = b[3] === 1 ? "allocated" : "free";
    let text = heap.name + ": block at " + hex(b[1]) + (b[0] > 0 ? " of region " + b[0] : "") + ", " +
               b[2] + " bytes, " + state;
    const said = [];
    if (b[6] > 0) said.push(b[6] + "-byte header");
    if (b[3] === 0 && b[8] > 0) said.push(b[8] + " bytes of free-list links");
    if (b[7] > 0) said.push(b[7] + "-byte footer");
    if (said.length > 0) text += "\n" + said.join(", ");
    if (b[3] === 1 && b[4] >= 0) {
      text += "\nserves id " + b[4] + ": " + b[5] + " bytes asked for, " + (b[2] - b[6] - b[7] - b[5]) +
              " of rounding and padding";
    } else if (b[3] === 1) {
      text += "\nthe request it serves is not known (see frames.hpp)";
    }
    return text;
  }

  function drawBlocks(heap, frame, scale) {
    const svg = heap.view.blocks;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    for (const b of frame.blocks) {
      let x = (heap.regionStart[b[0]] + b[1]) * scale;
      const g = element("g", { "class": "block", "data-state": b[3] === 1 ? "A" : "F", "data-size": b[2],
                               "data-offset": b[1], "data-region": b[0], "data-id": b[4] }, svg);
      for (const [part, bytes] of parts(b)) {
        const w = Math.max(bytes * scale, 0.5);
        element("rect", { x: x, y: 4, width: w, height: 38, "class": part === "header" || part === "footer" ? "tag" : part,
                          "data-part": part, "data-bytes": bytes }, g);
        x += bytes * scale;
      }
      element("title", {}, g).textContent = describe(heap, b);
      g.addEventListener("click", function () {
        for (const other of document.querySelectorAll("g.selected")) other.classList.remove("selected");
        g.classList.add("selected");
        document.getElementById("details").textContent = describe(heap, b);
      });
    }
  }

  function drawChart(heap) {
    const svg = heap.view.chart;
    const top = Math.max(1, ...heap.measures.map(function (m) { return m.heap; }));
    const x = function (i) { return steps <= 1 ? 0 : (i / (steps - 1)) * 316 + 2; };
    const y = function (v) { return 60 - (v / top) * 56; };
    const line = function (key, cls) {
      element("polyline", { "class": cls, points: heap.measures.map(function (m, i) {
        return x(i) + "," + y(m[key]);
      }).join(" ") }, svg);
    };
    line("heap", "heap-line");
    line("live", "live-line");
    heap.view.marker = element("line", { x1: 0, x2: 0, y1: 0, y2: 64 }, svg);
    element("title", {}, svg).textContent = "heap size (light) and live bytes (dark) over the trace";
    heap.view.chartX = x;
  }

  function show() {
    const scale = 1000 / Math.max(...data.allocators.map(function (h) { return h.width; }));
    document.getElementById("slider").value = step;
    document.getElementById("step").textContent = "step " + (step + 1) + " of " + steps + ":";
    let op = "";
    for (const heap of data.allocators) {
      const view = heap.view;
      view.blocks.setAttribute("viewBox", "0 0 1000 46");
      view.blocks.setAttribute("preserveAspectRatio", "none");
      view.marker.setAttribute("x1", view.chartX(step));
      view.marker.setAttribute("x2", view.chartX(step));
      if (step < heap.frames.length) {
        const frame = heap.frames[step];
        const m = heap.measures[step];
        op = op || ("line " + frame.line + ": " + frame.op);
        drawBlocks(heap, frame, scale);
        view.measures.textContent = "heap " + bytes(m.heap) + ", live " + bytes(m.live) + ", utilization " +
            (100 * m.utilization).toFixed(1) + "%, " + m.free + " free block" + (m.free === 1 ? "" : "s") +
            ", largest " + bytes(m.largest);
        view.measures.classList.remove("stopped");
      } else {
        while (view.blocks.firstChild) view.blocks.removeChild(view.blocks.firstChild);
        view.measures.textContent = "stopped at step " + (heap.frames.length + 1) + ": " + heap.stopped;
        view.measures.classList.add("stopped");
      }
    }
    document.getElementById("op").textContent = op;
  }

  function go(n) {
    step = Math.max(0, Math.min(steps - 1, n));
    show();
    return step;
  }
  function play() {
    const button = document.getElementById("play");
    if (timer !== null) { clearInterval(timer); timer = null; button.textContent = "play"; return; }
    if (step === steps - 1) go(0);
    button.textContent = "pause";
    timer = setInterval(function () {
      if (step === steps - 1) { play(); return; }
      go(step + 1);
    }, 400);
  }

  document.getElementById("what").textContent = data.trace + ": " + steps + " operations, on " +
      data.allocators.map(function (h) { return h.name; }).join(", ");
  const heaps = document.getElementById("heaps");
  for (const heap of data.allocators) {
    measure(heap);
    const section = document.createElement("section");
    section.className = "heap";
    section.setAttribute("data-allocator", heap.name);
    const title = document.createElement("h2");
    title.textContent = heap.name;
    const measures = document.createElement("div");
    measures.className = "measures";
    section.append(title, measures);
    const blocks = element("svg", { "class": "blocks" }, section);
    const chart = element("svg", { "class": "chart", viewBox: "0 0 320 64" }, section);
    heaps.appendChild(section);
    heap.view = { blocks: blocks, chart: chart, measures: measures };
    drawChart(heap);
  }
  const slider = document.getElementById("slider");
  slider.max = Math.max(steps - 1, 0);
  slider.addEventListener("input", function () { go(Number(slider.value)); });
  document.getElementById("first").addEventListener("click", function () { go(0); });
  document.getElementById("prev").addEventListener("click", function () { go(step - 1); });
  document.getElementById("next").addEventListener("click", function () { go(step + 1); });
  document.getElementById("last").addEventListener("click", function () { go(steps - 1); });
  document.getElementById("play").addEventListener("click", play);
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight") go(step + 1);
    if (event.key === "ArrowLeft") go(step - 1);
  });
  window.heaplabMap = { go: go, step: function () { return step; } };
  go(0);
})();
</script>
</body>
</html>
)html";

}  // namespace

void write_map_page(std::ostream& out, std::string_view trace_name, std::size_t op_count,
                    std::span<const MapPageHeap> heaps) {
  out << kHead << "{\"trace\":" << json_string(trace_name) << ",\"ops\":" << op_count << ",\"allocators\":[";
  for (std::size_t i = 0; i < heaps.size(); ++i) {
    const MapPageHeap& heap = heaps[i];
    out << (i == 0 ? "" : ",") << "{\"name\":" << json_string(heap.name)
        << ",\"stopped\":" << json_string(heap.stopped) << ",\"frames\":[";
    // The frames are one JSON object per line: a list needs commas instead.
    bool first = true;
    std::string_view rest = heap.frames;
    while (!rest.empty()) {
      const std::size_t end = rest.find('\n');
      const std::string_view line = rest.substr(0, end);
      if (!line.empty()) {
        out << (first ? "" : ",") << line;
        first = false;
      }
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }
    out << "]}";
  }
  out << "]}" << kTail;
}

}  // namespace heaplab
