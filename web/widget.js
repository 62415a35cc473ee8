// The embeddable 보도자료 Q&A widget: asks the HTTP API (POST /v1/ask) and shows the short answer,
// then its numbered sources with the answering span highlighted in the quote.
//
// Every piece of text that comes from the API (answers, titles, quotes: document content) is put
// on the page with textContent or createTextNode, never innerHTML, so a document holding <script>
// or <img onerror> shows literally. The API is the page's own origin (the API serves web/ at
// /widget/), two folders up from this page's URL, so no CORS is needed and a path prefix works.
(function () {
  "use strict";

  var ASK_URL = new URL("../v1/ask", window.location.href).toString();
  var MAX_HISTORY = 4; // turns sent as history when the API gives no conversation id

  var LABELS = {
    ko: {
      title: "보도자료 Q&A",
      intro: "보도자료에 적힌 내용만으로 답하고, 근거 문단을 함께 보여 드립니다.",
      placeholder: "보도자료에 대해 질문해 보세요",
      question: "질문",
      ask: "묻기",
      reset: "새 대화",
      thinking: "보도자료에서 답을 찾는 중…",
      sources: "출처",
      related: "관련 있지만 답은 아닌 문단",
      noDate: "날짜 없음",
      noSource: "출처 미상",
      ocr: "스캔 문서(OCR)",
      hint: "질문에 기관·사업·사람 이름이나 날짜를 넣어 다시 물어 보세요.",
      followUp: "앞 대화에 이어 다음 질문으로 찾아보았습니다: ",
      rateLimited: "질문이 너무 잦습니다. {s}초 뒤에 다시 시도해 주세요.",
      tooLong: "질문이 너무 깁니다. 더 짧게 줄여 주세요.",
      failed: "답을 찾는 중에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요.",
      unreachable: "답변 서버에 연결하지 못했습니다."
    },
    en: {
      title: "Press release Q&A",
      intro: "Answers come only from the press materials, with the passages that support them.",
      placeholder: "Ask about the press releases",
      question: "Question",
      ask: "Ask",
      reset: "New conversation",
      thinking: "Searching the press materials…",
      sources: "Sources",
      related: "Related, but not an answer",
      noDate: "no date",
      noSource: "unknown source",
      ocr: "scanned (OCR)",
      hint: "Try again with the name of an organisation, project or person, or a date.",
      followUp: "Read with the conversation as: ",
      rateLimited: "Too many questions. Please try again in {s} s.",
      tooLong: "The question is too long. Please shorten it.",
      failed: "Something went wrong while answering. Please try again shortly.",
      unreachable: "The answering server could not be reached."
    }
  };

  var params = new URLSearchParams(window.location.search);
  var lang = params.get("lang") === "en" ? "en" : "ko";
  var text = LABELS[lang];
  var state = { conversationId: null, history: [], busy: false };

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined && content !== null) node.textContent = String(content);
    return node;
  }

  // Code points, not UTF-16 units: the API's offsets count Python characters.
  function chars(value) {
    return Array.from(String(value || ""));
  }

  // The quote as text nodes with the answering span inside a <mark>.
  function highlightedQuote(citation) {
    var quote = element("blockquote", "quote");
    var letters = chars(citation.quote);
    var start = citation.span_start, end = citation.span_end;
    if (typeof start === "number" && typeof end === "number" && typeof citation.start === "number") {
      var from = Math.max(0, Math.min(letters.length, start - citation.start));
      var to = Math.max(from, Math.min(letters.length, end - citation.start));
      quote.appendChild(document.createTextNode(letters.slice(0, from).join("")));
      quote.appendChild(element("mark", "answer-span", letters.slice(from, to).join("")));
      quote.appendChild(document.createTextNode(letters.slice(to).join("")));
    } else {
      quote.textContent = letters.join("");
    }
    return quote;
  }

  function sourceCard(number, citation) {
    var card = element("li", "source");
    card.appendChild(element("div", "source-title", number + ". " + (citation.title || citation.doc_id || "")));
    var meta = [citation.source || text.noSource, citation.date || text.noDate];
    if (citation.ocr === true) meta.push(text.ocr);
    card.appendChild(element("div", "source-meta", meta.join(" · ")));
    card.appendChild(highlightedQuote(citation));
    return card;
  }

  // The short answer without the phrase the API's text quotes in parentheses after it
  // ("8개입니다. (“헬스케어 분야 8”)"): the first source shows it in place, marked. Only a
  // parenthesis whose content is part of the first citation's quote is dropped (ui.display_text).
  function displayText(answer) {
    var value = String(answer.text || "");
    var first = Array.isArray(answer.citations) ? answer.citations[0] : null;
    if (answer.refused || !first) return value;
    var quote = String(first.quote || "");
    var pairs = [[" (“", "”)"], [" (", ")"]];
    for (var p = 0; p < pairs.length; p++) {
      var opening = pairs[p][0], closing = pairs[p][1];
      for (var start = value.indexOf(opening); start !== -1; start = value.indexOf(opening, start + 1)) {
        var inside = start + opening.length;
        for (var end = value.indexOf(closing, inside); end !== -1; end = value.indexOf(closing, end + 1)) {
          if (end > inside && quote.indexOf(value.slice(inside, end)) !== -1) {
            return value.slice(0, start) + value.slice(end + closing.length);
          }
        }
        var clipped = value.slice(inside);
        if (clipped.length > 1 && clipped.slice(-1) === "…" && quote.indexOf(clipped.slice(0, -1)) !== -1) {
          return value.slice(0, start);
        }
      }
    }
    return value;
  }

  // The sources shown: the answer's own citation and the other passages stating the figure
  // (evidence), never the passages that were merely retrieved (docs/decisions.md, session 12).
  function sourcesOf(answer) {
    var citations = Array.isArray(answer.citations) ? answer.citations : [];
    var evidence = Array.isArray(answer.evidence) ? answer.evidence : [];
    var shown = citations.slice(0, 1).concat(evidence);
    var seen = {};
    return shown.filter(function (c) {
      var key = c.doc_id + ":" + c.start;
      if (seen[key]) return false;
      seen[key] = true;
      return true;
    }).slice(0, 5);
  }

  function listOf(citations, heading) {
    var block = element("div", "sources");
    block.appendChild(element("h2", null, heading));
    var list = element("ol", "source-list");
    citations.forEach(function (citation, index) { list.appendChild(sourceCard(index + 1, citation)); });
    block.appendChild(list);
    return block;
  }

  function showTurn(question, answer) {
    var turn = element("article", "turn");
    turn.appendChild(element("p", "question", question));
    if (answer.refused) {
      turn.appendChild(element("p", "refusal", answer.text));
      var hint = answer.rewritten_question ? text.followUp + "“" + answer.rewritten_question + "”" : text.hint;
      turn.appendChild(element("p", "hint", hint));
      var related = Array.isArray(answer.related) ? answer.related.slice(0, 3) : [];
      if (related.length) turn.appendChild(listOf(related, text.related));
    } else {
      turn.appendChild(element("p", "answer", displayText(answer)));
      var sources = sourcesOf(answer);
      if (sources.length) turn.appendChild(listOf(sources, text.sources));
    }
    document.getElementById("conversation").appendChild(turn);
    turn.scrollIntoView({ block: "nearest" });
  }

  function say(message, kind) {
    var status = document.getElementById("status");
    status.textContent = message || "";
    status.className = "status" + (kind ? " " + kind : "");
  }

  function failure(response, body) {
    if (response.status === 429) {
      var seconds = parseInt(response.headers.get("Retry-After") || "60", 10);
      return text.rateLimited.replace("{s}", isNaN(seconds) ? 60 : seconds);
    }
    if (response.status === 413) return text.tooLong;
    var message = body && (body.message || (body.error && body.error.message) ||
                           (typeof body.detail === "string" ? body.detail : null));
    return response.status < 500 && message ? message : text.failed;
  }

  function ask(question) {
    var request = { question: question, lang: lang };
    if (state.conversationId) request.conversation_id = state.conversationId;
    else if (state.history.length) request.history = state.history.slice(-MAX_HISTORY);
    state.busy = true;
    document.getElementById("ask").disabled = true;
    say(text.thinking, "busy");
    return fetch(ASK_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(request),
      credentials: "omit"
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (!response.ok || !body) {
          say(failure(response, body), "error");
          return;
        }
        say("");
        if (body.conversation_id) state.conversationId = body.conversation_id;
        state.history.push({ question: question, answer: body.text || "" });
        showTurn(question, body);
        document.getElementById("reset").hidden = false;
      });
    }).catch(function () {
      say(text.unreachable, "error");
    }).then(function () {
      state.busy = false;
      document.getElementById("ask").disabled = false;
    });
  }

  function reset() {
    state.conversationId = null;
    state.history = [];
    document.getElementById("conversation").replaceChildren();
    document.getElementById("reset").hidden = true;
    say("");
  }

  function start() {
    document.documentElement.lang = lang;
    document.title = text.title;
    document.getElementById("title").textContent = text.title;
    document.getElementById("intro").textContent = text.intro;
    document.getElementById("question-label").textContent = text.question;
    document.getElementById("ask").textContent = text.ask;
    document.getElementById("reset").textContent = text.reset;
    var input = document.getElementById("question");
    input.placeholder = text.placeholder;
    document.getElementById("ask-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var question = input.value.trim();
      if (!question || state.busy) return;
      input.value = "";
      ask(question);
    });
    document.getElementById("reset").addEventListener("click", reset);
  }

  start();
})();
