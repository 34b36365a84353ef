// veil gallery: filters on the index; comparison, slider and keyboard on a
// subject page. Loaded as a file of the site ('self'): the pages' CSP
// forbids inline script. Styles are set through the CSSOM, which the CSP
// allows, never through style attributes, which it does not.
"use strict";

function typing(ev) {
  const t = ev.target;
  return ev.ctrlKey || ev.metaKey || ev.altKey ||
    (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA"));
}

function setupIndex() {
  const phase = document.getElementById("phase");
  const paired = document.getElementById("paired");
  const shown = document.getElementById("shown");
  const cards = Array.from(document.querySelectorAll(".card"));
  function apply() {
    let n = 0;
    for (const c of cards) {
      const phases = c.dataset.phases.split(" ");
      const ok = (!phase.value || phases.includes(phase.value)) &&
        (!paired.checked || c.dataset.paired === "true");
      c.hidden = !ok;
      if (ok) n++;
    }
    shown.textContent = n + " of " + cards.length + " subjects shown";
  }
  phase.addEventListener("change", apply);
  paired.addEventListener("change", apply);
  apply();
  document.addEventListener("keydown", (ev) => {
    if (typing(ev) || (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft")) return;
    const visible = cards.filter((c) => !c.hidden).map((c) => c.querySelector("a"));
    if (!visible.length) return;
    let i = visible.indexOf(document.activeElement);
    i = ev.key === "ArrowRight" ? Math.min(i + 1, visible.length - 1) : Math.max(i - 1, 0);
    visible[i].focus();
    ev.preventDefault();
  });
}

function setupSubject() {
  const compare = document.getElementById("compare");
  const photos = Array.from(document.querySelectorAll(".photo"));
  const pickA = document.getElementById("pickA");
  const pickB = document.getElementById("pickB");
  const imgA = document.getElementById("imgA");
  const imgB = document.getElementById("imgB");
  const slider = document.getElementById("slider");
  const mode = document.getElementById("mode");
  const go = (id) => { const a = document.getElementById(id); if (a) a.click(); };
  if (!compare) {
    // No photo of this subject has a preview (HEIC without a decoder):
    // only the keys between subjects.
    document.addEventListener("keydown", (ev) => {
      if (typing(ev)) return;
      if (ev.key === "[") go("prev");
      if (ev.key === "]") go("next");
    });
    return;
  }
  const shown = photos.filter((p) => p.dataset.preview);
  function show(img, cap, pick) {
    const p = photos[Number(pick.value)];
    img.src = p.dataset.preview;
    img.alt = p.dataset.label;
    document.getElementById(cap).textContent = p.dataset.label + " · " + p.dataset.code;
    return p;
  }
  function update() {
    show(imgA, "capA", pickA);
    const b = show(imgB, "capB", pickB);
    for (const p of photos) p.classList.toggle("current", p === b);
    clip();
  }
  function clip() {
    // Overlay: the right photo covers the left one from the slider's
    // position to the right edge.
    const fig = imgB.parentElement;
    fig.style.clipPath = compare.classList.contains("overlay") ? "inset(0 0 0 " + slider.value + "%)" : "";
  }
  function step(pick, d) {
    const values = shown.map((p) => p.dataset.index);
    const i = values.indexOf(pick.value);
    pick.value = values[Math.max(0, Math.min(values.length - 1, i + d))];
    update();
  }
  function toggle() {
    const overlay = compare.classList.toggle("overlay");
    compare.classList.toggle("side", !overlay);
    mode.textContent = overlay ? "Side by side" : "Overlay";
    clip();
  }
  function move(d) {
    slider.value = String(Math.max(0, Math.min(100, Number(slider.value) + d)));
    clip();
  }
  pickA.addEventListener("change", update);
  pickB.addEventListener("change", update);
  slider.addEventListener("input", clip);
  mode.addEventListener("click", toggle);
  for (const p of shown) {
    p.addEventListener("click", (ev) => {
      if (ev.target.closest("a") && !ev.target.closest("a").querySelector("img")) return; // the file link
      ev.preventDefault();
      pickB.value = p.dataset.index;
      update();
      compare.scrollIntoView();
    });
  }
  document.addEventListener("keydown", (ev) => {
    if (typing(ev)) return;
    switch (ev.key) {
      case "ArrowRight": step(ev.shiftKey ? pickA : pickB, 1); break;
      case "ArrowLeft": step(ev.shiftKey ? pickA : pickB, -1); break;
      case "o": case "O": toggle(); break;
      case ",": move(-5); break;
      case ".": move(5); break;
      case "[": go("prev"); break;
      case "]": go("next"); break;
      default: return;
    }
    ev.preventDefault();
  });
  update();
}

if (document.body.dataset.page === "index") setupIndex();
if (document.body.dataset.page === "subject") setupSubject();
