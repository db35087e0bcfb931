(function () {
  "use strict";
  // The token is kept for this tab only (sessionStorage), and sent only to this origin.
  var TOKEN_KEY = "oms.dashboard.token";
  var MERCHANT_KEY = "oms.dashboard.merchant";
  var SVG = "http://www.w3.org/2000/svg";
  var DAYS = 14;
  var STATUSES = ["received", "on_hold", "allocated", "reserved", "backordered", "partially_shipped",
    "shipped", "in_transit", "delivered", "cancelled", "exception"];

  var form = document.getElementById("token-form");
  var board = document.getElementById("board");
  var message = document.getElementById("message");
  var signOut = document.getElementById("sign-out");
  var refresh = document.getElementById("refresh");

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function svg(tag, attributes, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, String(attributes[name]));
    });
    if (text !== undefined) {
      node.textContent = String(text);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
    return node;
  }

  function body(id) {
    return clear(document.querySelector("#" + id + " tbody"));
  }

  function words(status) {
    return String(status || "").replace(/_/g, " ");
  }

  function when(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
  }

  function setState(state, note) {
    document.body.setAttribute("data-state", state);
    message.hidden = !note;
    message.textContent = note || "";
  }

  function token() {
    return window.sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function merchant() {
    return window.sessionStorage.getItem(MERCHANT_KEY) || "";
  }

  // A failed call, with the API's own error when it gave one.
  function Failure(status, answer) {
    this.status = status;
    this.code = answer && answer.error ? answer.error.code : "";
    this.message = answer && answer.error ? answer.error.message : "";
  }

  // Calls the API beside the page (under a stage's prefix, if any) with the token.
  function api(path, method) {
    return fetch(new URL(path, window.location.href), {
      method: method || "GET",
      headers: { Authorization: "Bearer " + token(), Accept: "application/json" },
      cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (answer) {
        if (!response.ok) {
          throw new Failure(response.status, answer);
        }
        return answer;
      });
    });
  }

  function query(params) {
    var search = new URLSearchParams();
    Object.keys(params).forEach(function (name) {
      if (params[name] !== undefined && params[name] !== "") {
        search.set(name, params[name]);
      }
    });
    return search.toString();
  }

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  // The last DAYS days, today (UTC) included.
  function period() {
    var today = new Date();
    var days = [];
    for (var i = DAYS - 1; i >= 0; i -= 1) {
      days.push(isoDay(new Date(today.getTime() - i * 86400000)));
    }
    return { from: days[0], to: days[days.length - 1], days: days };
  }

  function analytics(by, range) {
    return api("analytics?" + query({ by: by, from: range.from, to: range.to, merchant_id: merchant() }));
  }

  // ---- orders by status ----------------------------------------------------------

  function renderCounts(report) {
    var counts = {};
    (report ? report.rows : []).forEach(function (row) {
      counts[row.key] = (counts[row.key] || 0) + row.orders;
    });
    var rows = body("status-counts");
    STATUSES.forEach(function (status) {
      var tr = el("tr");
      tr.setAttribute("data-status", status);
      var name = el("td");
      var pick = el("button", words(status), "link");
      pick.type = "button";
      pick.addEventListener("click", function () { showOrders(status); });
      name.appendChild(pick);
      tr.appendChild(name);
      var count = el("td", report ? counts[status] || 0 : "\u2013", "num count");
      tr.appendChild(count);
      rows.appendChild(tr);
    });
  }

  function showOrders(status) {
    Array.prototype.forEach.call(document.querySelectorAll("#status-counts tbody tr"), function (tr) {
      tr.classList.toggle("chosen", tr.getAttribute("data-status") === status);
    });
    document.getElementById("orders-status").textContent = words(status);
    document.getElementById("orders-block").hidden = false;
    var rows = body("orders");
    setState("loading", "");
    return api("orders?" + query({ status: status, limit: "20", merchant: merchant() }))
      .then(function (answer) {
        answer.orders.forEach(function (order) {
          var tr = el("tr");
          tr.setAttribute("data-order-id", order.order_id);
          var id = el("td");
          var open = el("button", order.order_id, "link");
          open.type = "button";
          open.addEventListener("click", function () { showOrder(order.order_id); });
          id.appendChild(open);
          tr.appendChild(id);
          tr.appendChild(el("td", order.order_number));
          tr.appendChild(el("td", order.channel));
          tr.appendChild(el("td", when(order.placed_at)));
          tr.appendChild(el("td", words(order.status)));
          rows.appendChild(tr);
        });
        if (answer.orders.length === 0) {
          var none = el("tr");
          var cell = el("td", "No orders in this status.", "hint");
          cell.colSpan = 5;
          none.appendChild(cell);
          rows.appendChild(none);
        }
        document.getElementById("orders-more").hidden = !answer.next;
        setState("ready", "");
      })
      .catch(failed);
  }

  function showOrder(id) {
    setState("loading", "");
    return api("orders/" + encodeURIComponent(id))
      .then(function (order) {
        document.getElementById("detail-id").textContent = order.order_id;
        document.getElementById("detail-number").textContent = order.order_number;
        document.getElementById("detail-merchant").textContent = order.merchant_id;
        document.getElementById("detail-channel").textContent = order.channel + " (" + order.external_id + ")";
        document.getElementById("detail-status").textContent = words(order.status);
        document.getElementById("detail-placed").textContent = when(order.placed_at);
        document.getElementById("detail-items").textContent = (order.lines || []).map(function (line) {
          return line.quantity + " \u00d7 " + line.sku + " @ " + line.unit_price + " " + order.currency;
        }).join(", ");
        var timeline = clear(document.getElementById("timeline"));
        (order.timeline || []).forEach(function (step) {
          var li = el("li");
          li.setAttribute("data-status", step.status);
          li.appendChild(el("strong", words(step.status)));
          if (step.detail) {
            li.appendChild(document.createTextNode(" " + step.detail));
          }
          li.appendChild(el("span", when(step.at), "when"));
          timeline.appendChild(li);
        });
        document.getElementById("order-detail").hidden = false;
        setState("ready", "");
      })
      .catch(failed);
  }

  // ---- alerts --------------------------------------------------------------------

  function loadAlerts() {
    return Promise.all([
      api("alerts?status=open&limit=100"),
      api("alerts?status=acknowledged&limit=100")
    ]).then(function (answers) {
      var alerts = answers[0].alerts.concat(answers[1].alerts);
      var rows = body("alerts");
      document.getElementById("alerts-none").hidden = alerts.length > 0;
      alerts.forEach(function (alert) {
        var tr = el("tr");
        tr.setAttribute("data-alert-id", alert.alert_id);
        tr.appendChild(el("td", when(alert.raised_at)));
        tr.appendChild(el("td", words(alert.kind), "kind"));
        var order = el("td");
        if (alert.order_id) {
          var open = el("button", alert.order_id, "link");
          open.type = "button";
          open.addEventListener("click", function () { showOrder(alert.order_id); });
          order.appendChild(open);
        }
        tr.appendChild(order);
        tr.appendChild(el("td", alert.message, "text"));
        tr.appendChild(el("td", alert.status, "status"));
        var actions = el("td", null, "actions");
        if (alert.status === "open") {
          actions.appendChild(action(alert.alert_id, "acknowledge", "Acknowledge"));
        }
        actions.appendChild(action(alert.alert_id, "resolve", "Resolve"));
        tr.appendChild(actions);
        rows.appendChild(tr);
      });
    });
  }

  function action(id, verb, label) {
    var button = el("button", label, verb === "resolve" ? "quiet" : "");
    button.type = "button";
    button.setAttribute("data-action", verb);
    button.addEventListener("click", function () {
      button.disabled = true;
      setState("loading", "");
      api("alerts/" + encodeURIComponent(id) + "/" + verb, "POST")
        .then(loadAlerts)
        .then(function () { setState("ready", ""); })
        .catch(failed);
    });
    return button;
  }

  // ---- charts --------------------------------------------------------------------

  // Vertical bars: one per label, its value written above it.
  function barChart(labels, values, shown, alt) {
    var width = 56 * labels.length + 40;
    var height = 180;
    var top = 18;
    var base = height - 28;
    var most = Math.max.apply(null, values.concat([0]));
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img" });
    chart.appendChild(svg("line", { x1: 20, y1: base, x2: width - 10, y2: base, "class": "axis" }));
    labels.forEach(function (label, i) {
      var x = 24 + i * 56;
      var h = most > 0 ? Math.round((values[i] / most) * (base - top)) : 0;
      var bar = svg("rect", { x: x, y: base - h, width: 40, height: h, "class": alt ? "bar alt" : "bar" });
      bar.appendChild(svg("title", {}, label + ": " + shown[i]));
      chart.appendChild(bar);
      chart.appendChild(svg("text", { x: x + 20, y: base - h - 4, "text-anchor": "middle", "class": "value" }, shown[i]));
      chart.appendChild(svg("text", { x: x + 20, y: base + 16, "text-anchor": "middle" }, label));
    });
    return chart;
  }

  // Horizontal bars: one per key, with its own words beside it.
  function rowChart(keys, values, notes) {
    var width = 640;
    var rowHeight = 26;
    var height = keys.length * rowHeight + 10;
    var most = Math.max.apply(null, values.concat([0]));
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img" });
    keys.forEach(function (key, i) {
      var y = 5 + i * rowHeight;
      var w = most > 0 ? Math.round((values[i] / most) * 300) : 0;
      chart.appendChild(svg("text", { x: 0, y: y + 15 }, key));
      chart.appendChild(svg("rect", { x: 110, y: y + 2, width: w, height: rowHeight - 8, "class": "bar" }));
      chart.appendChild(svg("text", { x: 116 + w, y: y + 15, "class": "value" }, notes[i]));
    });
    return chart;
  }

  function renderCharts(range, byDay, byChannel) {
    var orders = {};
    var revenue = {};
    byDay.rows.forEach(function (row) {
      orders[row.key] = (orders[row.key] || 0) + row.orders;
      revenue[row.currency] = revenue[row.currency] || {};
      revenue[row.currency][row.key] = row.revenue;
    });
    var labels = range.days.map(function (day) { return day.slice(5); });
    var counts = range.days.map(function (day) { return orders[day] || 0; });
    clear(document.getElementById("chart-day")).appendChild(barChart(labels, counts, counts, false));

    var money = clear(document.getElementById("chart-revenue"));
    var currencies = Object.keys(revenue).sort();
    if (currencies.length === 0) {
      money.appendChild(el("p", "No revenue in these days.", "hint"));
    }
    currencies.forEach(function (currency) {
      var block = el("div", null, "currency");
      block.setAttribute("data-currency", currency);
      block.appendChild(el("h4", currency));
      var amounts = range.days.map(function (day) { return revenue[currency][day] || "0"; });
      block.appendChild(barChart(labels, amounts.map(Number), amounts, true));
      money.appendChild(block);
    });

    var channels = {};
    byChannel.rows.forEach(function (row) {
      var entry = channels[row.key] = channels[row.key] || { orders: 0, money: [] };
      entry.orders += row.orders;
      entry.money.push(row.currency + " " + row.revenue);
    });
    var keys = Object.keys(channels).sort(function (a, b) { return channels[b].orders - channels[a].orders || (a < b ? -1 : 1); });
    var place = clear(document.getElementById("chart-channel"));
    if (keys.length === 0) {
      place.appendChild(el("p", "No orders in these days.", "hint"));
      return;
    }
    place.appendChild(rowChart(keys, keys.map(function (key) { return channels[key].orders; }), keys.map(function (key) {
      var n = channels[key].orders;
      return n + (n === 1 ? " order, " : " orders, ") + channels[key].money.join(", ");
    })));
  }

  // ---- the whole board -----------------------------------------------------------

  function failed(error) {
    if (error instanceof Failure && error.status === 401) {
      forget();
      setState("signed_out", "The server did not accept that token: " + (error.message || "unauthenticated") + ".");
      return;
    }
    if (error instanceof Failure) {
      setState("error", "The server answered " + error.status + (error.message ? ": " + error.message : "."));
      return;
    }
    setState("error", "Could not reach the server. Check the connection and refresh.");
  }

  function load() {
    var range = period();
    document.getElementById("period").textContent = "(placed " + range.from + " to " + range.to + ", UTC)";
    setState("loading", "");
    var note = document.getElementById("charts-note");
    note.hidden = true;
    // Analytics read the order archive, which only `oms serve` has (501, or no route, in
    // AWS): the alerts and the order lists still work without it.
    var reports = Promise.all([analytics("status", range), analytics("day", range), analytics("channel", range)])
      .then(function (answers) {
        renderCounts(answers[0]);
        renderCharts(range, answers[1], answers[2]);
      })
      .catch(function (error) {
        if (error instanceof Failure && (error.status === 501 || error.status === 404)) {
          renderCounts(null);
          note.textContent = "Counts and charts need the order archive, which this deployment does not have.";
          note.hidden = false;
          return;
        }
        throw error;
      });
    return Promise.all([reports, loadAlerts()])
      .then(function () {
        setState("ready", "");
      })
      .catch(failed);
  }

  function forget() {
    window.sessionStorage.removeItem(TOKEN_KEY);
    window.sessionStorage.removeItem(MERCHANT_KEY);
    board.hidden = true;
    form.hidden = false;
    signOut.hidden = true;
    refresh.hidden = true;
  }

  function open() {
    form.hidden = true;
    board.hidden = false;
    signOut.hidden = false;
    refresh.hidden = false;
    return load();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = document.getElementById("token").value.trim();
    if (!typed) {
      setState("signed_out", "Please paste your API token.");
      return;
    }
    window.sessionStorage.setItem(TOKEN_KEY, typed);
    window.sessionStorage.setItem(MERCHANT_KEY, document.getElementById("merchant").value.trim());
    document.getElementById("token").value = "";
    open();
  });

  signOut.addEventListener("click", function () {
    forget();
    setState("signed_out", "");
  });

  refresh.addEventListener("click", function () {
    load();
  });

  if (token()) {
    open();
  }
})();
