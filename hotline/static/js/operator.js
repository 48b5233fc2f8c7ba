/* Tổng đài 1022 — the operator's console: caller lookup, area tree, router suggestion,
   knowledge base, PBX call polling and keyboard shortcuts. No framework, no inline script. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) {
        return resp.json().then(function (body) {
          if (!resp.ok) { throw new Error((body && body.error) || resp.statusText); }
          return body;
        });
      });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function withQuery(url, params) {
    var q = Object.keys(params).filter(function (k) { return params[k]; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); });
    return url + (url.indexOf("?") < 0 ? "?" : "&") + q.join("&");
  }

  /* ---- area picker: one select per level, depth from the data ---------------------- */

  function AreaPicker(root) {
    this.root = root;
    this.url = root.getAttribute("data-children-url");
    this.value = root.querySelector("[data-area-value]");
    this.levels = root.querySelector(".area-levels");
    this.listeners = [];
    var self = this;
    this.levels.addEventListener("change", function (ev) {
      if (ev.target.matches("select[data-area-level]")) { self.chosen(ev.target); }
    });
  }

  AreaPicker.prototype.selects = function () {
    return Array.prototype.slice.call(this.levels.querySelectorAll("select[data-area-level]"));
  };

  AreaPicker.prototype.trimAfter = function (select) {
    var all = this.selects(), idx = all.indexOf(select);
    all.slice(idx + 1).forEach(function (s) { s.remove(); });
  };

  AreaPicker.prototype.current = function () {
    var value = "";
    this.selects().forEach(function (s) { if (s.value) { value = s.value; } });
    return value;
  };

  AreaPicker.prototype.addLevel = function (areas, depth) {
    var select = el("select", { "data-area-level": String(depth), "aria-label": "Cấp " + (depth + 1) });
    select.appendChild(el("option", { value: "" }, depth === 0 ? "— chọn —" : "— cấp dưới (không bắt buộc) —"));
    areas.forEach(function (a) { select.appendChild(el("option", { value: String(a.id) }, a.name)); });
    this.levels.appendChild(select);
    return select;
  };

  AreaPicker.prototype.loadChildren = function (parentId, depth) {
    var self = this;
    return getJSON(withQuery(this.url, { parent: parentId })).then(function (body) {
      if (body.areas.length) { return self.addLevel(body.areas, depth); }
      return null;
    });
  };

  AreaPicker.prototype.chosen = function (select) {
    this.trimAfter(select);
    this.value.value = this.current();
    this.notify();
    if (select.value) {
      this.loadChildren(select.value, this.selects().indexOf(select) + 1).catch(function () {});
    }
  };

  AreaPicker.prototype.notify = function () {
    var v = this.value.value;
    this.listeners.forEach(function (fn) { fn(v); });
  };

  /* Select a whole chain of ids (root first), loading each level as needed. */
  AreaPicker.prototype.setChain = function (ids) {
    var self = this;
    var first = this.selects()[0];
    if (!first || !ids.length) { return Promise.resolve(); }
    this.trimAfter(first);
    var step = function (i, select) {
      if (!select || i >= ids.length) { return Promise.resolve(); }
      select.value = String(ids[i]);
      self.value.value = self.current();
      return self.loadChildren(ids[i], i + 1).then(function (next) { return step(i + 1, next); });
    };
    return step(0, first).then(function () { self.notify(); });
  };

  var pickers = Array.prototype.map.call(document.querySelectorAll("[data-area-picker]"),
    function (node) { return new AreaPicker(node); });

  /* ---- knowledge base: search as you type, "Dùng" hands the article to use() --------- */

  function setupKb(input, results, url, fieldOf, use) {
    var search = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2) { results.textContent = ""; return; }
      getJSON(withQuery(url, { q: q, field: fieldOf() })).then(function (body) {
        results.textContent = "";
        if (!body.articles.length) {
          results.appendChild(el("li", { class: "muted" }, "Không tìm thấy bài phù hợp."));
        }
        body.articles.forEach(function (a) {
          var li = el("li");
          li.appendChild(el("b", {}, a.title));
          li.appendChild(el("div", { class: "small" }, a.snippet + (a.body.length > a.snippet.length ? "…" : "")));
          var button = el("button", { type: "button", class: "small-button" }, "Dùng câu trả lời này");
          button.addEventListener("click", function () { use(a); });
          li.appendChild(button);
          results.appendChild(li);
        });
      }).catch(function () {});
    }, 250);
    input.addEventListener("input", search);
    // Enter searches; it never submits the form the box sits in.
    input.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); } });
  }

  /* The answer form of a ticket page: KB search fills the answer and the article id. */
  document.querySelectorAll("[data-kb-inline]").forEach(function (box) {
    var answerForm = box.closest("form");
    var target = answerForm.querySelector("[data-kb-answer]");
    var idInput = answerForm.querySelector("[data-kb-id]");
    var used = answerForm.querySelector("[data-kb-used]");
    setupKb(box.querySelector("[data-kb-input]"), box.querySelector("[data-kb-results]"),
      box.getAttribute("data-kb-url"), function () { return box.getAttribute("data-field") || ""; },
      function (a) {
        target.value = target.value ? target.value + "\n\n" + a.body : a.body;
        idInput.value = String(a.id);
        used.querySelector("[data-kb-title]").textContent = a.title;
        used.hidden = false;
        target.focus();
      });
    used.querySelector("[data-kb-clear]").addEventListener("click", function () {
      idInput.value = ""; used.hidden = true;
    });
  });

  /* ---- the new-call form ------------------------------------------------------------ */

  var form = document.getElementById("call-form");
  if (!form) { return; }
  var picker = pickers[0];
  var phone = form.querySelector("#phone");
  var nameInput = form.querySelector("#name");
  var address = form.querySelector("#address");
  var description = form.querySelector("#description");
  var answer = form.querySelector("#answer");
  var agencySelect = form.querySelector("#agency_id");
  var reasonField = form.querySelector("[data-reason-field]");
  var suggestionBox = form.querySelector("[data-suggestion]");
  var callerBody = document.querySelector("[data-caller-body]");
  var suggested = null;

  /* Decision panels: show only the chosen one. */
  function showDecision() {
    var chosen = form.querySelector("input[name=decision]:checked");
    var value = chosen ? chosen.value : "forward";
    form.querySelectorAll("[data-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-panel") !== value;
    });
  }
  form.querySelectorAll("input[name=decision]").forEach(function (r) {
    r.addEventListener("change", showDecision);
  });
  showDecision();

  function chooseDecision(value) {
    var radio = form.querySelector("input[name=decision][value=" + value + "]");
    if (radio) { radio.checked = true; showDecision(); }
  }

  /* Caller history for the phone number being typed. */
  function renderCaller(body) {
    callerBody.textContent = "";
    callerBody.appendChild(el("p", { class: "caller-phone" }, body.phone + (body.name ? " — " + body.name : "")));
    if (!body.tickets.length) {
      callerBody.appendChild(el("p", { class: "muted" }, "Chưa có phiếu nào từ số này."));
      return;
    }
    var list = el("ul", { class: "plain caller-tickets" });
    body.tickets.forEach(function (t) {
      var li = el("li");
      var a = el("a", { href: t.url, target: "_blank", rel: "noopener" }, t.code);
      li.appendChild(a);
      li.appendChild(document.createTextNode(" " + t.status_label));
      li.appendChild(el("div", { class: "muted small" }, t.received + " · " + t.title + (t.agency ? " · " + t.agency : "")));
      list.appendChild(li);
    });
    callerBody.appendChild(el("p", { class: "muted small" }, "Các phiếu gần đây (" + body.tickets.length + "):"));
    callerBody.appendChild(list);
  }

  var lastLooked = "";
  var lookup = debounce(function () {
    var digits = phone.value.replace(/\D/g, "");
    if (digits.length < 9 || phone.value === lastLooked) { return; }
    lastLooked = phone.value;
    getJSON(withQuery(form.getAttribute("data-caller-url"), { phone: phone.value })).then(function (body) {
      renderCaller(body);
      if (body.name && !nameInput.value) { nameInput.value = body.name; }
      if (body.address && !address.value) { address.value = body.address; }
      if (body.area_chain.length && picker && !picker.value.value) { picker.setChain(body.area_chain); }
    }).catch(function (err) {
      callerBody.textContent = "";
      callerBody.appendChild(el("p", { class: "error" }, err.message));
    });
  }, 350);
  phone.addEventListener("input", lookup);
  phone.addEventListener("keydown", function (ev) {
    // Enter in the phone box looks the caller up and moves on, it never submits the call.
    if (ev.key === "Enter") { ev.preventDefault(); lastLooked = ""; lookup(); nameInput.focus(); }
  });

  /* Today's ward proposed from the address typed (old or new form): fills an empty picker. */
  var proposal = form.querySelector("[data-area-proposal]");
  if (proposal && address) {
    var locate = debounce(function () {
      if (address.value.trim().length < 6) { proposal.hidden = true; return; }
      getJSON(withQuery(proposal.getAttribute("data-locate-url"), { address: address.value })).then(function (body) {
        proposal.textContent = "";
        if (!body.match) { proposal.hidden = true; return; }
        proposal.appendChild(document.createTextNode("Đề xuất địa bàn: "));
        proposal.appendChild(el("b", {}, body.match.name));
        proposal.appendChild(document.createTextNode(" — " + body.match.explanation));
        proposal.hidden = false;
        if (picker && !picker.value.value) { picker.setChain(body.match.area_chain); }
      }).catch(function () { proposal.hidden = true; });
    }, 500);
    address.addEventListener("input", locate);
  }

  /* The router's suggestion for the field, area and kind chosen. */
  function updateReasonField() {
    var differs = suggested && agencySelect.value && agencySelect.value !== String(suggested);
    var noSuggestion = !suggested;
    reasonField.hidden = !(differs || (noSuggestion && agencySelect.value));
    form.querySelector("#reason").required = Boolean(differs);
  }
  var route = debounce(function () {
    var kind = form.querySelector("input[name=kind]:checked");
    var params = { field: form.querySelector("#field_id").value, area: picker ? picker.value.value : "",
                   kind: kind ? kind.value : "" };
    if (!params.field && !params.area) { return; }
    getJSON(withQuery(form.getAttribute("data-route-url"), params)).then(function (body) {
      suggestionBox.textContent = "";
      suggested = body.agency_id;
      if (body.agency_id) {
        suggestionBox.appendChild(document.createTextNode("Gợi ý: "));
        suggestionBox.appendChild(el("b", {}, body.agency_name));
        suggestionBox.appendChild(el("span", { class: "muted small reason" }, body.reason));
        agencySelect.options[0].textContent = "— theo gợi ý: " + body.agency_name + " —";
      } else {
        suggestionBox.appendChild(el("span", { class: "muted" }, body.reason + " Hãy chọn cơ quan."));
        agencySelect.options[0].textContent = "— chọn cơ quan —";
      }
      updateReasonField();
    }).catch(function () {});
  }, 200);
  form.querySelector("#field_id").addEventListener("change", route);
  form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", route); });
  if (picker) { picker.listeners.push(route); }
  agencySelect.addEventListener("change", updateReasonField);
  updateReasonField();
  route();

  /* Knowledge base: search as you type; "Dùng" puts the answer in and chooses "answer". */
  var kbInput = document.getElementById("kb-q");
  var kbResults = document.querySelector("[data-kb-results]");
  var kbId = form.querySelector("[data-kb-id]");
  var kbUsed = form.querySelector("[data-kb-used]");
  var kbTitle = form.querySelector("[data-kb-title]");
  function useArticle(article) {
    answer.value = answer.value ? answer.value + "\n\n" + article.body : article.body;
    kbId.value = String(article.id);
    kbTitle.textContent = article.title;
    kbUsed.hidden = false;
    chooseDecision("answer");
    answer.focus();
  }
  form.querySelector("[data-kb-clear]").addEventListener("click", function () {
    kbId.value = ""; kbUsed.hidden = true;
  });
  setupKb(kbInput, kbResults, form.getAttribute("data-kb-url"),
    function () { return form.querySelector("#field_id").value; }, useArticle);
  kbInput.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { description.focus(); }
  });

  /* Triage: field, scope and KB suggestions as the description is typed. The text is
     POSTed (never in a URL); a reply for text that changed meanwhile is dropped. */
  var triageBox = form.querySelector("[data-triage-live]");
  var triageBanner = triageBox.querySelector("[data-triage-banner]");
  var triageFields = triageBox.querySelector("[data-triage-fields]");
  var fieldSelect = form.querySelector("#field_id");
  var lastTriaged = null;
  function label(name) { return triageBox.getAttribute("data-label-" + name) || ""; }
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": form.querySelector("input[name=csrf_token]").value },
      body: JSON.stringify(body)
    }).then(function (resp) {
      if (!resp.ok) { throw new Error(resp.statusText); }
      return resp.json();
    });
  }
  function renderTriage(body) {
    triageBanner.textContent = body.banner || "";
    triageBanner.className = "scope-banner scope-" + body.scope;
    triageBanner.setAttribute("data-scope", body.scope);
    triageBanner.hidden = !body.banner;
    triageFields.textContent = "";
    if (body.fields.length) {
      var chips = el("div", { class: "triage-chips" });
      chips.appendChild(el("span", { class: "muted small" }, label("fields")));
      body.fields.forEach(function (f) {
        var chip = el("button", { type: "button", class: "triage-chip", "data-field-code": f.code,
                                  title: f.words.join(", ") });
        chip.appendChild(el("b", {}, f.name));
        chip.appendChild(el("span", { class: "muted" }, Math.round(f.score * 100) + "%"));
        chip.addEventListener("click", function () {
          fieldSelect.value = String(f.id);
          fieldSelect.dispatchEvent(new Event("change"));
        });
        chips.appendChild(chip);
      });
      triageFields.appendChild(chips);
      var top = body.fields[0];
      if (top.words.length) {
        triageFields.appendChild(el("div", { class: "muted small", "data-triage-words": "" },
          label("words") + " (" + top.name + "): " + top.words.join(", ")));
      }
    }
    if (body.kb.length) {
      var list = el("ul", { class: "plain small" });
      body.kb.forEach(function (a) {
        var li = el("li", {}, a.title + " ");
        var use = el("button", { type: "button", class: "small-button" }, label("use"));
        use.addEventListener("click", function () { useArticle(a); });
        li.appendChild(use);
        list.appendChild(li);
      });
      triageFields.appendChild(el("div", { class: "muted small" }, label("kb")));
      triageFields.appendChild(list);
    }
    triageBox.hidden = !(body.banner || body.fields.length || body.kb.length);
  }
  var triage = debounce(function () {
    var text = description.value.trim();
    if (text === lastTriaged) { return; }
    lastTriaged = text;
    if (text.length < 4) { triageBox.hidden = true; return; }
    postJSON(form.getAttribute("data-triage-url"), { text: text }).then(function (body) {
      if (description.value.trim() === text) { renderTriage(body); }
    }).catch(function () {});
  }, 300);
  description.addEventListener("input", triage);
  if (description.value) { triage(); }

  /* Keyboard: Ctrl+Enter records the call, Ctrl+K searches the knowledge base. */
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") {
      ev.preventDefault();
      if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
    } else if ((ev.ctrlKey || ev.metaKey) && (ev.key === "k" || ev.key === "K")) {
      ev.preventDefault();
      kbInput.focus();
    }
  });

  /* A form sent once stays sent: the second click would only find the same ticket. */
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    setTimeout(function () { button.disabled = true; }, 0);
  });

  /* PBX: poll for a call ringing at this operator's extension. */
  var banner = document.getElementById("incoming-call");
  if (banner && banner.getAttribute("data-enabled") === "1") {
    var lastCall = 0;
    var incoming = null;
    var poll = function () {
      if (document.hidden) { return; }
      getJSON(withQuery(banner.getAttribute("data-poll-url"), { after: lastCall ? String(lastCall) : "" }))
        .then(function (body) {
          if (!body.call) { return; }
          lastCall = body.call.id;
          incoming = body.call;
          banner.querySelector("[data-incoming-number]").textContent = body.call.phone || body.call.raw;
          banner.querySelector("[data-incoming-at]").textContent = body.call.at;
          banner.hidden = false;
          if (!phone.value && body.call.phone) {
            phone.value = body.call.phone;
            lookup();
          }
        }).catch(function () {});
    };
    banner.querySelector("[data-use-incoming]").addEventListener("click", function () {
      if (incoming) { phone.value = incoming.phone || incoming.raw; lastLooked = ""; lookup(); phone.focus(); }
    });
    poll();
    setInterval(poll, 3000);
  }

  if (phone.value) { lookup(); }
  var error = document.getElementById("form-error");
  if (error) { error.scrollIntoView({ block: "center" }); }
}());
