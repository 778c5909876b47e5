// Folds every exercise's answer away until asked for: each paragraph that
// opens with "Answer:", and what follows it up to the next exercise or
// section, goes into a <details> element whose summary reads "Answer".
// Loaded by every page of the HTML docs (docs/footer.html).
"use strict";
(function () {
  // True when node starts something the answer does not run into: the next
  // exercise (a paragraph opening with a bold "N."), a heading, or the end.
  function endsAnswer(node) {
    if (node === null) return true;
    if (/^H[1-6]$/.test(node.tagName)) return true;
    const first = node.firstElementChild;
    return node.tagName === "P" && first !== null && first.tagName === "B" && /^\d+\./.test(first.textContent);
  }
  function opensAnswer(node) {
    const first = node.firstElementChild;
    return node.tagName === "P" && first !== null && first.tagName === "EM" && first.textContent === "Answer:" &&
           node.firstChild === first;
  }
  for (const start of Array.from(document.querySelectorAll("div.contents p"))) {
    if (!opensAnswer(start) || start.closest("details") !== null) continue;
    const details = document.createElement("details");
    details.className = "answer";
    const summary = document.createElement("summary");
    summary.textContent = "Answer";
    details.appendChild(summary);
    start.parentNode.insertBefore(details, start);
    let node = start;
    while (!endsAnswer(node)) {
      const next = node.nextElementSibling;
      details.appendChild(node);
      node = next;
    }
  }
})();
