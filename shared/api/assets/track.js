(function () {
  "use strict";
  var form = document.getElementById("lookup");
  var button = document.getElementById("submit");
  var message = document.getElementById("message");
  var result = document.getElementById("result");
  var shopRow = document.getElementById("shop-row");
  var merchantInput = document.getElementById("merchant");
  var merchant = new URLSearchParams(window.location.search).get("merchant") || "";
  if (!merchant) {
    shopRow.hidden = false;
  }

  function text(id, value) {
    document.getElementById(id).textContent = value;
  }

  function when(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
  }

  function words(status) {
    return String(status || "").replace(/_/g, " ");
  }

  function item(title, detail, at) {
    var li = document.createElement("li");
    var strong = document.createElement("strong");
    strong.textContent = title;
    li.appendChild(strong);
    if (detail) {
      li.appendChild(document.createTextNode(" " + detail));
    }
    if (at) {
      var span = document.createElement("span");
      span.className = "when";
      span.textContent = when(at);
      li.appendChild(span);
    }
    return li;
  }

  function clear(id) {
    var node = document.getElementById(id);
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
    return node;
  }

  function show(state, note) {
    document.body.setAttribute("data-state", state);
    message.hidden = !note;
    message.textContent = note || "";
  }

  function render(view) {
    text("order-number-out", view.order_number);
    text("status-text", view.status_text || words(view.status));
    text("placed-at", when(view.placed_at));
    text("city", view.city || "");
    text("phone-out", view.phone || "");
    var hasEta = Boolean(view.eta);
    document.getElementById("eta-label").hidden = !hasEta;
    document.getElementById("eta").hidden = !hasEta;
    text("eta", hasEta ? when(view.eta) : "");

    var items = clear("items");
    (view.items || []).forEach(function (line) {
      items.appendChild(item(line.quantity + " \u00d7 " + line.sku));
    });

    var shipments = clear("shipments");
    var parcels = view.shipments || [];
    document.getElementById("shipments-block").hidden = parcels.length === 0;
    parcels.forEach(function (parcel) {
      var box = document.createElement("div");
      box.className = "shipment";
      var head = document.createElement("p");
      head.textContent = "Tracking number " + parcel.tracking_number + ": " + words(parcel.status);
      box.appendChild(head);
      var events = document.createElement("ol");
      events.className = "timeline";
      (parcel.events || []).forEach(function (event) {
        var where = event.location ? " (" + event.location + ")" : "";
        events.appendChild(item(words(event.status) + where, event.description || "", event.at));
      });
      box.appendChild(events);
      shipments.appendChild(box);
    });

    var timeline = clear("timeline");
    (view.timeline || []).forEach(function (step) {
      timeline.appendChild(item(step.detail || words(step.status), "", step.at));
    });
    result.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {
      merchant: merchant || merchantInput.value.trim(),
      order_number: document.getElementById("order-number").value.trim(),
      phone: document.getElementById("phone").value.trim()
    };
    result.hidden = true;
    if (!body.merchant || !body.order_number || !body.phone) {
      show("invalid", "Please fill in every field.");
      return;
    }
    button.disabled = true;
    show("loading", "");
    // The lookup sits beside the page: /track/lookup (under a stage's prefix, if any).
    var base = window.location.origin + window.location.pathname.replace(/\/?$/, "/");
    fetch(new URL("lookup", base), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          return { status: response.status, answer: answer };
        });
      })
      .then(function (reply) {
        if (reply.status === 200) {
          render(reply.answer);
          show("found", "");
        } else if (reply.status === 404) {
          show("not_found", reply.answer.error.message);
        } else if (reply.status === 429) {
          show("error", "Too many tries from here. Please wait a minute and try again.");
        } else {
          var note = reply.answer && reply.answer.error ? reply.answer.error.message : "";
          show("error", "That did not work" + (note ? ": " + note : "."));
        }
      })
      .catch(function () {
        show("error", "We could not reach the server. Check your connection and try again.");
      })
      .then(function () {
        button.disabled = false;
      });
  });
})();
