/* News Q&A page: citation panels and the ask box.
 *
 * Every piece of data (questions, answers, article text) is put in the page with
 * textContent / createElement, never as HTML.
 */
(function () {
  "use strict";

  var ABSTAIN_MESSAGE = "The articles do not answer this question.";
  var CONTEXT_CHARS = 1400; // most characters of surrounding text shown around a cited sentence
  var root = document.body.getAttribute("data-root") || "";
  var documents = new Map(); // doc_id -> Promise of the document JSON
  var panelCounter = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function isWebUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url);
  }

  function errorDetail(body, status) {
    if (body && typeof body.detail === "string" && body.detail) return body.detail;
    if (body && Array.isArray(body.detail)) {
      return body.detail.map(function (e) { return e && e.msg ? String(e.msg) : String(e); }).join("; ");
    }
    return "HTTP " + status;
  }

  /* ---------- Documents and context ---------- */

  function fetchDocument(docId) {
    if (!documents.has(docId)) {
      var promise = fetch(root + "/documents/" + encodeURIComponent(docId), {headers: {Accept: "application/json"}})
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (body) {
            if (!response.ok) throw new Error(errorDetail(body, response.status));
            return body;
          });
        });
      promise.catch(function () { documents.delete(docId); }); // retry on the next open
      documents.set(docId, promise);
    }
    return documents.get(docId);
  }

  function paragraphStart(text, i) {
    if (i <= 0) return 0;
    var k = text.lastIndexOf("\n", i - 1);
    return k < 0 ? 0 : k + 1;
  }

  function paragraphEnd(text, i) {
    var k = text.indexOf("\n", i);
    return k < 0 ? text.length : k;
  }

  /** [from, to) of the paragraph(s) holding text[start:end], plus neighbours while short enough. */
  function contextRange(text, start, end) {
    var from = paragraphStart(text, start);
    var to = paragraphEnd(text, end);
    var previous = from - 1;
    while (previous > 0 && /\s/.test(text.charAt(previous - 1))) previous -= 1;
    if (previous > 0) {
      var previousStart = paragraphStart(text, previous);
      if (to - previousStart <= CONTEXT_CHARS) from = previousStart;
    }
    var next = to;
    while (next < text.length && /\s/.test(text.charAt(next))) next += 1;
    if (next < text.length) {
      var nextEnd = paragraphEnd(text, next);
      if (nextEnd - from <= CONTEXT_CHARS) to = nextEnd;
    }
    // A very long paragraph is cut around the sentence, at word boundaries.
    var cutBefore = false;
    var cutAfter = false;
    if (start - from > CONTEXT_CHARS / 2) {
      from = text.indexOf(" ", start - CONTEXT_CHARS / 2) + 1 || start;
      cutBefore = true;
    }
    if (to - end > CONTEXT_CHARS / 2) {
      var space = text.lastIndexOf(" ", end + CONTEXT_CHARS / 2);
      to = space > end ? space : end;
      cutAfter = true;
    }
    return {from: Math.min(from, start), to: Math.max(to, end), cutBefore: cutBefore, cutAfter: cutAfter};
  }

  function renderContext(container, text, cite, whole) {
    var range = whole ? {from: 0, to: text.length, cutBefore: false, cutAfter: false}
                      : contextRange(text, cite.start, cite.end);
    container.replaceChildren();
    if (range.cutBefore) container.appendChild(el("span", "cut", "… "));
    container.appendChild(document.createTextNode(text.slice(range.from, cite.start).replace(/^\s+/, "")));
    var mark = el("mark", "cited", text.slice(cite.start, cite.end));
    container.appendChild(mark);
    container.appendChild(document.createTextNode(text.slice(cite.end, range.to).replace(/\s+$/, "")));
    if (range.cutAfter) container.appendChild(el("span", "cut", " …"));
    return mark;
  }

  /* ---------- Citation panels ---------- */

  function citationOf(button) {
    var d = button.dataset;
    return {
      id: Number(d.cite), docId: d.docId, start: Number(d.start), end: Number(d.end),
      title: d.title || d.docId, source: d.source || "", url: d.url || "", text: d.text || "",
    };
  }

  function closePanel(panel) {
    if (!panel || panel.hidden) return;
    panel.hidden = true;
    panel.replaceChildren();
    delete panel.dataset.cite;
    var owner = panel.closest(".answer");
    if (owner) {
      owner.querySelectorAll("button.cite[aria-expanded='true']").forEach(function (b) {
        b.setAttribute("aria-expanded", "false");
      });
    }
  }

  function openPanel(button, how) {
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    if (!panel) return;
    var cite = citationOf(button);
    button.dataset.openedBy = how;
    if (!panel.hidden && panel.dataset.cite === String(cite.id)) return;
    closePanel(panel);
    panel.dataset.cite = String(cite.id);
    button.setAttribute("aria-expanded", "true");
    panel.setAttribute("aria-label", "Source " + cite.id);

    var head = el("div", "cite-head");
    head.appendChild(el("span", "cite-number", "[" + cite.id + "]"));
    var who = el("div", "cite-who");
    who.appendChild(el("p", "cite-title", cite.title));
    var meta = el("p", "cite-meta");
    meta.appendChild(el("span", "cite-source", cite.source || "Publisher not stated"));
    if (cite.url) {
      meta.appendChild(document.createTextNode(" · "));
      if (isWebUrl(cite.url)) {
        var link = el("a", "cite-url", cite.url);
        link.href = cite.url;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
        meta.appendChild(link);
      } else {
        meta.appendChild(el("span", "cite-url", cite.url));
      }
    }
    who.appendChild(meta);
    head.appendChild(who);
    var close = el("button", "cite-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close source " + cite.id);
    close.addEventListener("click", function () {
      closePanel(panel);
      button.focus();
    });
    head.appendChild(close);
    panel.appendChild(head);

    var context = el("blockquote", "cite-context");
    context.setAttribute("aria-busy", "true");
    context.appendChild(el("span", "cite-loading", "Loading the article…"));
    panel.appendChild(context);
    var foot = el("div", "cite-foot");
    panel.appendChild(foot);
    panel.hidden = false;

    fetchDocument(cite.docId).then(function (doc) {
      if (panel.dataset.cite !== String(cite.id) || !panel.contains(context)) return;
      var text = typeof doc.text === "string" ? doc.text : "";
      context.setAttribute("aria-busy", "false");
      if (!cite.source && doc.source) meta.firstChild.textContent = doc.source;
      var byline = [doc.author ? "by " + doc.author : "", doc.published || ""].filter(Boolean).join(" · ");
      if (byline) meta.insertBefore(el("span", "cite-byline", " · " + byline), meta.firstChild.nextSibling);
      if (cite.end > text.length || text.slice(cite.start, cite.end) !== cite.text) {
        context.replaceChildren(el("span", "cite-quote-only", cite.text));
        foot.appendChild(el("p", "cite-warning",
          "The article has changed since this answer was composed; showing the quoted sentence only."));
        return;
      }
      var whole = false;
      var mark = renderContext(context, text, cite, whole);
      foot.appendChild(el("span", "cite-offsets",
        "Characters " + cite.start + "–" + cite.end + " of " + (doc.chars || text.length)));
      var more = el("button", "link-button", "Show the whole article");
      more.type = "button";
      more.addEventListener("click", function () {
        whole = !whole;
        mark = renderContext(context, text, cite, whole);
        context.classList.toggle("cite-context--whole", whole);
        more.textContent = whole ? "Show less" : "Show the whole article";
        mark.scrollIntoView({block: "center", inline: "nearest"});
      });
      foot.appendChild(more);
    }).catch(function (error) {
      if (!panel.contains(context)) return;
      context.setAttribute("aria-busy", "false");
      context.replaceChildren(el("span", "cite-quote-only", cite.text));
      foot.appendChild(el("p", "cite-warning", "Could not load the article: " + error.message));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.cite[data-cite]");
    if (!button) return;
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    var isOpen = panel && !panel.hidden && panel.dataset.cite === button.dataset.cite;
    if (isOpen && button.dataset.openedBy === "click") {
      closePanel(panel);
    } else {
      openPanel(button, "click");
    }
  });

  document.addEventListener("focusin", function (event) {
    var button = event.target;
    if (!(button instanceof HTMLElement) || !button.matches("button.cite[data-cite]")) return;
    if (button.matches(":focus-visible")) openPanel(button, "focus"); // keyboard focus, not a mouse press
  });

  document.addEventListener("focusout", function (event) {
    // A panel opened by tabbing onto a marker closes when focus leaves that answer.
    var answer = event.target.closest && event.target.closest(".answer");
    if (!answer || (event.relatedTarget && answer.contains(event.relatedTarget))) return;
    var owner = answer.querySelector("button.cite[aria-expanded='true']");
    if (owner && owner.dataset.openedBy === "focus") closePanel(answer.querySelector(".cite-panel"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var panel = event.target.closest && event.target.closest(".answer") &&
      event.target.closest(".answer").querySelector(".cite-panel:not([hidden])");
    if (!panel) return;
    var owner = panel.closest(".answer").querySelector("button.cite[aria-expanded='true']");
    closePanel(panel);
    if (owner) owner.focus();
  });

  /* ---------- Answers to typed questions ---------- */

  function marker(cite, panelId) {
    var button = el("button", "cite", "[" + cite.id + "]");
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", panelId);
    button.setAttribute("aria-label", "Source " + cite.id + ": " + cite.title);
    button.dataset.cite = String(cite.id);
    button.dataset.docId = cite.doc_id;
    button.dataset.start = String(cite.start);
    button.dataset.end = String(cite.end);
    button.dataset.title = cite.title || "";
    button.dataset.source = cite.source || "";
    button.dataset.url = cite.url || "";
    button.dataset.text = cite.text;
    return button;
  }

  function renderAnswer(data, elapsedMs) {
    panelCounter += 1;
    var panelId = "panel-ask-" + panelCounter;
    var card = el("article", "qa qa--asked");
    card.appendChild(el("h3", "qa-question", data.question));
    var timing = "answered in " + Math.round(elapsedMs) + " ms";
    if (data.abstained) {
      var box = el("div", "answer answer--abstained");
      box.dataset.state = "abstained";
      var p = el("p", "abstain");
      var icon = el("span", "abstain-icon");
      icon.setAttribute("aria-hidden", "true");
      p.appendChild(icon);
      p.appendChild(el("span", "abstain-text", ABSTAIN_MESSAGE));
      box.appendChild(p);
      box.appendChild(el("p", "answer-meta", "No sentence in the articles matched well enough (confidence " +
        Number(data.confidence).toFixed(2) + "), so the service does not guess · " + timing + "."));
      card.appendChild(box);
      return card;
    }
    var byId = new Map();
    data.citations.forEach(function (c) { byId.set(c.id, c); });
    var answer = el("div", data.support === "partial" ? "answer answer--partial" : "answer");
    answer.dataset.state = "answered";
    answer.dataset.support = data.support || "answer";
    if (data.support === "partial") {
      answer.appendChild(el("p", "partial-note",
        "Partial answer: the articles discuss this, but no sentence answers it directly."));
    }
    if (data.short_answer) {
      var short = el("p", "short-answer", "Answer: ");
      short.appendChild(el("strong", null, data.short_answer.text));
      answer.appendChild(short);
    }
    var text = el("p", "answer-text");
    data.sentences.forEach(function (sentence, index) {
      if (index > 0) text.appendChild(document.createTextNode(" "));
      text.appendChild(el("span", "sentence", sentence.text));
      var markers = el("span", "markers");
      sentence.citations.forEach(function (id) {
        if (byId.has(id)) markers.appendChild(marker(byId.get(id), panelId));
      });
      text.appendChild(markers);
    });
    answer.appendChild(text);
    var panel = el("div", "cite-panel");
    panel.id = panelId;
    panel.setAttribute("role", "region");
    panel.setAttribute("aria-label", "Source");
    panel.hidden = true;
    answer.appendChild(panel);
    var sources = el("details", "sources");
    var n = data.citations.length;
    sources.appendChild(el("summary", null, n + " source" + (n === 1 ? "" : "s") + " · confidence " +
      Number(data.confidence).toFixed(2) + " · " + timing));
    var list = el("ol", "source-list");
    data.citations.forEach(function (c) {
      var item = el("li");
      item.value = c.id;
      item.appendChild(el("span", "source-title", c.title));
      if (c.source) item.appendChild(el("span", "source-publisher", " — " + c.source));
      item.appendChild(el("q", "source-quote", c.text));
      list.appendChild(item);
    });
    sources.appendChild(list);
    answer.appendChild(sources);
    card.appendChild(answer);
    return card;
  }

  function renderProblem(kind, title, message) {
    var box = el("div", "problem problem--" + kind);
    box.setAttribute("role", "alert");
    box.appendChild(el("p", "problem-title", title));
    if (message) box.appendChild(el("p", "problem-detail", message));
    return box;
  }

  var form = document.getElementById("ask-form");
  var input = document.getElementById("question");
  var submit = document.getElementById("ask-button");
  var status = document.getElementById("ask-status");
  var result = document.getElementById("ask-result");
  var inFlight = null;

  function setBusy(busy) {
    result.setAttribute("aria-busy", busy ? "true" : "false");
    status.hidden = !busy;
    submit.disabled = busy;
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  async function ask(question) {
    if (inFlight) inFlight.abort();
    var controller = new AbortController();
    inFlight = controller;
    var started = performance.now();
    setBusy(true);
    result.replaceChildren();
    var response;
    var body = null;
    try {
      response = await fetch(root + "/ask", {
        method: "POST",
        headers: {"Content-Type": "application/json", Accept: "application/json"},
        body: JSON.stringify({question: question}),
        signal: controller.signal,
      });
      body = await response.json().catch(function () { return null; });
    } catch (error) {
      if (controller.signal.aborted) return;
      inFlight = null;
      setBusy(false);
      result.replaceChildren(renderProblem("offline", "The service could not be reached.",
        "Check your connection, then try again."));
      return;
    }
    if (controller.signal.aborted) return;
    inFlight = null;
    setBusy(false);
    if (!response.ok) {
      var detail = errorDetail(body, response.status);
      if (response.status >= 400 && response.status < 500) {
        result.replaceChildren(renderProblem("rejected", "The question was not accepted.", detail));
      } else {
        result.replaceChildren(renderProblem("server", "The service had a problem answering (HTTP " +
          response.status + ").", detail));
      }
      return;
    }
    if (!body || typeof body.abstained !== "boolean") {
      result.replaceChildren(renderProblem("server", "The service sent an answer this page cannot read.", ""));
      return;
    }
    var elapsed = performance.now() - started;
    result.replaceChildren(renderAnswer(body, elapsed));
    result.dataset.elapsedMs = String(Math.round(elapsed));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value;
    if (!question.trim()) {
      result.replaceChildren(renderProblem("rejected", "Type a question first.", ""));
      input.focus();
      return;
    }
    ask(question);
  });
})();
