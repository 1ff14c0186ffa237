// The task page: both videos play, pause, seek and loop together; ratings by mouse or
// keyboard; submitting is possible once both videos have played to the end (watched through
// at least WATCHED of their length) or cannot be played in this browser at all.
//
// Keys (outside a comment field): space plays or pauses; J/K move to the next/previous
// question and A/B to video A/B (the highlighted rating row, which also takes the focus);
// 1-5 rate the highlighted row and 0 is "can't judge", then the highlight moves on; L turns
// looping on or off; Enter submits. Enter on a focused link or button (Play, Submit, show
// whole prompt, sign out) does what that control does, and so does space on a button
// reached with the keyboard (after a click on a button, space still plays or pauses). Tab
// and Shift+Tab keep their usual meaning, and the highlight follows the focus (and a click)
// into a rating row.
//
// A prompt longer than four lines at the page's width (#prompt-text.clamped in style.css)
// shows those four and a "show whole prompt" button (aria-expanded), so that the videos
// start on the first screen of a phone.
//
// Answers in progress (scores, comments, which videos have played) are kept as a draft in
// sessionStorage under the task's id, restored on reload, and dropped once saved.
(() => {
  "use strict";
  const WATCHED = 0.9; // a video counts as played once this share of it has been watched
  const REPLY_WAIT_MS = 60000; // a submission with no reply by then is reported as failed
  const SIDES = ["left", "right"];
  const LETTER = { left: "A", right: "B" };
  const NOT_LOADED = "it could not be loaded";
  const videos = SIDES.map((side) => document.getElementById(`video-${side}`));
  const form = document.getElementById("ratings");
  const submit = document.getElementById("submit");
  const status = document.getElementById("status");
  const notice = document.getElementById("notice");
  const seek = document.getElementById("seek");
  const loop = document.getElementById("loop");
  const promptText = document.getElementById("prompt-text");
  const promptToggle = document.getElementById("prompt-toggle");
  const questions = [...form.querySelectorAll(".question")];
  const rows = questions.map((q) => [...q.querySelectorAll(".scale")]);
  const played = new Set(); // sides watched to the end, or that cannot be played
  const broken = new Map(); // side -> why it cannot be played
  const draftKey = `scine-draft:${form.dataset.task}`;
  let current = { question: 0, row: 0 };
  let sending = false;
  let saved = false;

  // ---- messages and the Submit button
  function say(text, error = false) {
    status.textContent = text;
    status.classList.toggle("error", error);
  }
  function ready() {
    return SIDES.every((side) => played.has(side));
  }
  function updateSubmit() {
    if (saved || sending) {
      submit.disabled = true;
      submit.textContent = saved ? "Saved" : "Sending…";
    } else if (!ready()) {
      submit.disabled = true;
      submit.textContent = "Submit (play both videos to the end first)";
    } else {
      submit.disabled = false;
      submit.textContent = "Submit";
    }
  }

  // ---- a long prompt: its first lines, and a button to show it whole
  function fitPrompt() {
    if (promptToggle.getAttribute("aria-expanded") === "true") return; // opened: stays whole
    promptText.classList.add("clamped");
    const cut = promptText.scrollHeight - promptText.clientHeight > 1;
    promptText.classList.toggle("clamped", cut);
    promptToggle.hidden = !cut;
  }
  promptToggle.addEventListener("click", () => {
    const open = promptToggle.getAttribute("aria-expanded") !== "true";
    promptToggle.setAttribute("aria-expanded", String(open));
    promptToggle.textContent = open ? "show less of the prompt" : "show whole prompt";
    if (open) promptText.classList.remove("clamped");
    else fitPrompt();
  });
  window.addEventListener("resize", fitPrompt);

  // ---- the draft
  function saveDraft() {
    if (saved) return;
    const answers = {};
    const comments = {};
    for (const input of form.querySelectorAll("input[type=radio]:checked")) answers[input.name] = input.value;
    for (const input of form.querySelectorAll("input.comment")) if (input.value) comments[input.name] = input.value;
    const draft = {
      submitted: form.dataset.submitted,
      answers,
      comments,
      played: [...played].filter((side) => !broken.has(side)),
    };
    try { sessionStorage.setItem(draftKey, JSON.stringify(draft)); } catch { /* storage off or full */ }
  }
  function dropDraft() {
    try { sessionStorage.removeItem(draftKey); } catch { /* storage off */ }
  }
  function restoreDraft() {
    let draft = null;
    try { draft = JSON.parse(sessionStorage.getItem(draftKey) || "null"); } catch { draft = null; }
    if (!draft || typeof draft !== "object") return false;
    if (draft.submitted !== form.dataset.submitted) { dropDraft(); return false; } // saved since
    for (const [name, value] of Object.entries(draft.answers || {})) {
      const radio = [...form.querySelectorAll("input[type=radio]")].find((r) => r.name === name && r.value === value);
      if (radio) radio.checked = true;
    }
    for (const input of form.querySelectorAll("input.comment")) {
      const text = (draft.comments || {})[input.name];
      if (typeof text === "string") input.value = text;
    }
    for (const side of draft.played || []) if (SIDES.includes(side)) markPlayed(side);
    return true;
  }
  form.addEventListener("change", saveDraft);
  form.addEventListener("input", saveDraft);

  // ---- the videos
  const playable = () => videos.filter((v, i) => !broken.has(SIDES[i]));
  const playing = () => playable().some((v) => !v.paused);
  function playBoth() {
    const shown = playable();
    if (playing()) { shown.forEach((v) => v.pause()); return; }
    if (!shown.length) return;
    // from where the two are (the earlier of them), or from the start once both have ended
    const start = shown.every((v) => v.ended) ? 0 : Math.min(...shown.map((v) => v.currentTime));
    shown.forEach((v) => {
      v.currentTime = start;
      v.play().catch(() => { /* paused before it started, or an error reported below */ });
    });
  }
  function watched(video) {
    let seconds = 0;
    for (let i = 0; i < video.played.length; i += 1) seconds += video.played.end(i) - video.played.start(i);
    return video.duration ? seconds / video.duration : 0;
  }
  function markPlayed(side) {
    played.add(side);
    const mark = document.getElementById(`played-${side}`);
    mark.textContent = "played to the end";
    mark.classList.add("done");
    updateSubmit();
  }
  function markBroken(side, video) {
    if (broken.has(side) || !video.error || video.error.code === video.error.MEDIA_ERR_ABORTED) return;
    const why = {
      [video.error.MEDIA_ERR_NETWORK]: NOT_LOADED,
      [video.error.MEDIA_ERR_DECODE]: "it could not be decoded",
    }[video.error.code] || "its format is not supported";
    broken.set(side, why);
    played.add(side);
    const mark = document.getElementById(`played-${side}`);
    mark.textContent = "cannot be played in this browser";
    mark.classList.remove("done");
    mark.classList.add("broken");
    const rated = rows.flat().filter((row) => row.dataset.side === side);
    for (const row of rated) {
      for (const radio of row.querySelectorAll("input[type=radio]")) if (radio.value !== "") radio.disabled = true;
      const unsure = row.querySelector('input[type=radio][value=""]');
      if (!row.querySelector("input[type=radio]:checked")) unsure.checked = true;
    }
    const ratedSide = (s) => rows.flat().some((row) => row.dataset.side === s);
    const lines = [...broken].map(([s, reason]) =>
      `Video ${LETTER[s]} cannot be played in this browser (${reason}): it counts as played` +
      (ratedSide(s) ? " and is rated \"can't judge\" on every question." : " (it is not rated here)."));
    lines.push("Rate the rest and submit as usual.");
    if ([...broken.values()].includes(NOT_LOADED)) lines.push("Reloading the page may help with a video that could not be loaded.");
    notice.hidden = false;
    notice.textContent = lines.join(" ");
    updateSubmit();
  }
  document.getElementById("play").addEventListener("click", playBoth);
  seek.addEventListener("input", () => {
    playable().forEach((v) => { if (v.duration) v.currentTime = (seek.value / 1000) * v.duration; });
  });
  videos.forEach((video, index) => {
    const side = SIDES[index];
    video.addEventListener("timeupdate", () => {
      const first = playable()[0];
      if (video === first && video.duration) seek.value = Math.round((video.currentTime / video.duration) * 1000);
    });
    video.addEventListener("ended", () => {
      if (!played.has(side)) {
        if (watched(video) >= WATCHED) {
          markPlayed(side);
          saveDraft();
        } else {
          const share = Math.round(watched(video) * 100);
          document.getElementById(`played-${side}`).textContent =
            `reached the end with ${share}% watched: play it through`;
        }
      }
      if (loop.checked && playable().every((v) => v.ended)) playBoth();
    });
    video.addEventListener("error", () => markBroken(side, video));
  });

  // ---- the highlighted rating row (question, video)
  function rowAt(place) {
    return (rows[place.question] || [])[place.row];
  }
  function highlight(place, { focus = false } = {}) {
    if (!rowAt(place)) return;
    current = place;
    questions.forEach((q, i) => q.classList.toggle("current", i === place.question));
    rows.flat().forEach((row) => row.classList.toggle("current", row === rowAt(place)));
    if (focus) {
      const row = rowAt(place);
      const radio = row.querySelector("input[type=radio]:checked") || row.querySelector("input[type=radio]:not(:disabled)");
      radio.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }
  function placeOf(element) {
    const row = element.closest(".scale");
    if (!row) return null;
    const question = questions.indexOf(row.closest(".question"));
    return { question, row: rows[question].indexOf(row) };
  }
  form.addEventListener("focusin", (event) => {
    const place = placeOf(event.target);
    if (place) highlight(place);
  });
  form.addEventListener("click", (event) => {
    const place = placeOf(event.target);
    if (place) highlight(place);
  });
  function moveQuestion(step) {
    const question = Math.max(0, Math.min(questions.length - 1, current.question + step));
    highlight({ question, row: Math.min(current.row, rows[question].length - 1) }, { focus: true });
  }
  function moveToSide(side) {
    const row = rows[current.question].findIndex((r) => r.dataset.side === side);
    if (row < 0) { say(`Video ${LETTER[side]} is the reference here and is not rated.`); return; }
    highlight({ question: current.question, row }, { focus: true });
  }
  function rate(key) {
    const row = rowAt(current);
    if (!row) return;
    const radio = row.querySelector(`input[type=radio][value="${key === "0" ? "" : key}"]`);
    if (radio.disabled) {
      say(`Video ${LETTER[row.dataset.side]} cannot be played here: only "can't judge" (0) is possible.`);
      return;
    }
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    const next = current.row + 1 < rows[current.question].length
      ? { question: current.question, row: current.row + 1 }
      : { question: current.question + 1, row: 0 };
    if (rowAt(next)) highlight(next, { focus: true });
    else radio.focus({ preventScroll: true });
  }

  // a button clicked or tapped keeps the focus: space there still plays or pauses
  let pointed = null;
  document.addEventListener("pointerdown", (event) => {
    pointed = event.target.closest ? event.target.closest("button") : null;
  }, true);
  document.addEventListener("focusin", (event) => { if (event.target !== pointed) pointed = null; });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing || event.defaultPrevented) return;
    const target = event.target;
    const typing = target instanceof HTMLTextAreaElement || target.isContentEditable ||
      (target instanceof HTMLInputElement && !["radio", "checkbox", "range", "button", "submit"].includes(target.type));
    const within = (selector) => Boolean(target.closest && target.closest(selector));
    if (event.key === "Enter") {
      // links and buttons (Play, Submit, a guideline, the whole prompt, sign out) do their own thing
      if (within("a[href], button, summary")) return;
      event.preventDefault();
      send();
      return;
    }
    if (typing) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === " ") {
      if (within("button") && target !== pointed) return; // pressed as usual: Play plays, ...
      event.preventDefault();
      playBoth();
      return;
    }
    if (/^[0-5]$/.test(key)) { event.preventDefault(); rate(key); return; }
    if (key === "j" || key === "k") { event.preventDefault(); moveQuestion(key === "j" ? 1 : -1); return; }
    if (key === "a" || key === "b") { event.preventDefault(); moveToSide(key === "a" ? "left" : "right"); return; }
    if (key === "l") { event.preventDefault(); loop.checked = !loop.checked; }
  });

  // ---- submitting
  function ballots() {
    const found = [];
    for (const [index, question] of questions.entries()) {
      for (const [row, scale] of rows[index].entries()) {
        const chosen = scale.querySelector("input[type=radio]:checked");
        if (!chosen) {
          say("Every question needs a rating (or can't judge) for each video.", true);
          highlight({ question: index, row }, { focus: true });
          return null;
        }
        const comment = scale.querySelector(".comment").value.trim();
        found.push({
          side: scale.dataset.side,
          question: question.dataset.question,
          score: chosen.value === "" ? null : Number(chosen.value),
          comment: comment || null,
        });
      }
    }
    return found;
  }
  function reasonOf(response, text) {
    let body = null;
    try { body = JSON.parse(text); } catch { body = null; }
    let reason = body && (body.detail || body.error);
    if (Array.isArray(reason)) {
      reason = reason.map((p) => (p && p.msg ? `${(p.loc || []).join(".")}: ${p.msg}` : String(p))).join("; ");
    }
    if (typeof reason !== "string" || !reason.trim()) {
      reason = `the server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    }
    return reason.trim().replace(/[.\s]+$/, "");
  }
  function failed(reason) {
    sending = false;
    updateSubmit();
    say(`Not saved: ${reason}. Your answers are kept; try again.`, true);
  }
  async function send() {
    if (sending || saved) return;
    if (!ready()) { say("Play both videos to the end first."); return; }
    const sent = ballots();
    if (!sent) return;
    sending = true;
    updateSubmit();
    say("Sending…");
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), REPLY_WAIT_MS);
    let response;
    let text;
    try {
      response = await fetch(`/api/task/${form.dataset.task}`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": form.dataset.csrf,
        },
        body: JSON.stringify({ ballots: sent }),
        signal: stop.signal,
      });
      text = await response.text();
    } catch (error) {
      failed(stop.signal.aborted
        ? `no reply from the server within ${REPLY_WAIT_MS / 1000} s`
        : `the server could not be reached (${error.message || error})`);
      return;
    } finally {
      clearTimeout(timer);
    }
    let next = null;
    try { next = JSON.parse(text).next; } catch { next = null; }
    if (!response.ok || typeof next !== "string") {
      failed(response.ok ? `the server's reply was not understood (${response.status})` : reasonOf(response, text));
      return;
    }
    saved = true;
    sending = false;
    dropDraft();
    updateSubmit();
    say("Saved.");
    window.location.assign(next);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  // back to this page from the browser's cache after saving it: show it afresh
  window.addEventListener("pageshow", (event) => { if (event.persisted && saved) window.location.reload(); });

  // ---- start: fit the prompt, restore a draft, note videos that already failed, highlight
  // the first gap
  fitPrompt();
  if (restoreDraft()) say("Your unsaved answers in this tab were restored.");
  videos.forEach((video, index) => markBroken(SIDES[index], video));
  updateSubmit();
  const gap = rows.flat().find((row) => !row.querySelector("input[type=radio]:checked"));
  highlight(gap ? placeOf(gap) : { question: 0, row: 0 }); // no focus, no scrolling: the page opens at the top
})();
