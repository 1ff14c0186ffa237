// The task page: both videos play, pause, seek and loop together; ratings by mouse or
// keyboard; submitting is possible once both videos have played to the end.
(() => {
  "use strict";
  const videos = [document.getElementById("video-left"), document.getElementById("video-right")];
  const form = document.getElementById("ratings");
  const submit = document.getElementById("submit");
  const status = document.getElementById("status");
  const seek = document.getElementById("seek");
  const loop = document.getElementById("loop");
  const ended = new Set();
  const questions = [...document.querySelectorAll(".question")];
  let current = 0;

  const playing = () => videos.some((v) => !v.paused);
  function playBoth() {
    if (playing()) { videos.forEach((v) => v.pause()); return; }
    const start = Math.min(...videos.map((v) => v.currentTime));
    videos.forEach((v) => { v.currentTime = start; v.play(); });
  }
  document.getElementById("play").addEventListener("click", playBoth);
  seek.addEventListener("input", () => {
    videos.forEach((v) => { if (v.duration) v.currentTime = (seek.value / 1000) * v.duration; });
  });
  videos.forEach((video, index) => {
    const side = index === 0 ? "left" : "right";
    video.addEventListener("timeupdate", () => {
      if (index === 0 && video.duration) seek.value = Math.round((video.currentTime / video.duration) * 1000);
    });
    video.addEventListener("ended", () => {
      ended.add(side);
      const mark = document.getElementById(`played-${side}`);
      mark.textContent = "played to the end";
      mark.classList.add("done");
      if (ended.size === 2) {
        submit.disabled = false;
        submit.textContent = "Submit";
      }
      if (loop.checked && videos.every((v) => v.ended)) playBoth();
    });
  });

  function focusQuestion(index) {
    current = Math.max(0, Math.min(questions.length - 1, index));
    questions.forEach((q, i) => q.classList.toggle("current", i === current));
    questions[current].scrollIntoView({ block: "nearest" });
  }
  function firstUnanswered(question) {
    return [...question.querySelectorAll(".scale")].find(
      (scale) => !scale.querySelector("input[type=radio]:checked"),
    ) || question.querySelector(".scale:last-of-type");
  }
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.type === "text") return;
    if (event.key === " ") { event.preventDefault(); playBoth(); return; }
    if (/^[0-5]$/.test(event.key)) {
      const scale = firstUnanswered(questions[current]);
      const value = event.key === "0" ? "" : event.key;
      const radio = scale.querySelector(`input[type=radio][value="${value}"]`);
      radio.checked = true;
      if (![...questions[current].querySelectorAll(".scale")].some((s) => !s.querySelector("input:checked"))) {
        focusQuestion(current + 1);
      }
      event.preventDefault();
      return;
    }
    if (event.key === "Tab") { event.preventDefault(); focusQuestion(current + (event.shiftKey ? -1 : 1)); }
    if (event.key === "Enter" && !submit.disabled) { event.preventDefault(); form.requestSubmit(); }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (ended.size < 2) { status.textContent = "Play both videos to the end first."; return; }
    const ballots = [];
    for (const question of questions) {
      for (const scale of question.querySelectorAll(".scale")) {
        const chosen = scale.querySelector("input[type=radio]:checked");
        if (!chosen) {
          status.textContent = "Every question needs a rating (or can't judge) for each video.";
          status.classList.add("error");
          focusQuestion(questions.indexOf(question));
          return;
        }
        const comment = scale.querySelector(".comment").value.trim();
        ballots.push({
          side: scale.dataset.side,
          question: question.dataset.question,
          score: chosen.value === "" ? null : Number(chosen.value),
          comment: comment || null,
        });
      }
    }
    submit.disabled = true;
    const response = await fetch(`/api/task/${form.dataset.task}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf },
      body: JSON.stringify({ ballots }),
    });
    if (response.ok) {
      status.textContent = "Saved.";
      window.location.assign((await response.json()).next);
    } else {
      submit.disabled = false;
      status.classList.add("error");
      status.textContent = `Not saved: ${(await response.json()).detail || response.statusText}`;
    }
  });
  focusQuestion(0);
})();
