// The enrollment form's employer search as the trainee types: the same short list the form's
// search button shows (GET /api/v1/companies/search), drawn as the same radio buttons. Without
// this script the button does the search as a step of the form.
(function () {
  "use strict";
  var input = document.getElementById("f-company_query");
  var box = document.getElementById("company-matches");
  if (!input || !box) return;
  var english = document.documentElement.lang === "en";
  var timer = null;
  var asked = 0; // answers to older keystrokes that arrive late are dropped

  function choice(value, text, city, checked) {
    var item = document.createElement("li");
    var label = document.createElement("label");
    var radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "company_known";
    radio.value = value;
    radio.checked = checked;
    var span = document.createElement("span");
    span.textContent = text + " ";
    if (city !== null) {
      var small = document.createElement("small");
      small.className = "hint";
      small.textContent = city;
      span.appendChild(small);
    }
    label.appendChild(radio);
    label.appendChild(span);
    item.appendChild(label);
    return item;
  }

  function chosen() {
    var checked = box.querySelector("input[name=company_known]:checked");
    return checked ? checked.value : "";
  }

  function draw(companies) {
    var keep = chosen();
    box.textContent = "";
    if (!companies.length) {
      var none = document.createElement("p");
      none.className = "hint";
      none.textContent = box.dataset.nothingLabel;
      box.appendChild(none);
      return;
    }
    var list = document.createElement("ul");
    list.className = "choices";
    var kept = false;
    companies.forEach(function (c) {
      var city = (english ? c.city_name_en : c.city_name) || box.dataset.unknownCity;
      kept = kept || c.uscc === keep;
      list.appendChild(choice(c.uscc, c.name, city, c.uscc === keep));
    });
    list.appendChild(choice("", box.dataset.noneLabel, null, !kept));
    box.appendChild(list);
  }

  function search() {
    var text = input.value.trim();
    if (text.length < 2) return;
    var mine = ++asked;
    var url = input.dataset.searchUrl + "?q=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (answer) {
        if (mine === asked) draw(answer.companies);
      })
      .catch(function () {
        // The search button still works: nothing to draw.
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 250);
  });
  // Enter in the search box searches here instead of sending the form. Enter in any other
  // field sends the enrollment: the search button comes first in the form, so the browser
  // would take it as the form's default and search instead.
  var form = input.form;
  var send = form && form.querySelector("button[type=submit]:not([name=action])");
  if (form) {
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || target.tagName !== "INPUT") return;
      event.preventDefault();
      if (target === input) {
        window.clearTimeout(timer);
        search();
      } else if (send && form.requestSubmit) {
        form.requestSubmit(send);
      }
    });
  }
})();
