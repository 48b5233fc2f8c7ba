/* Public pages of Tổng đài 1022: "use my location", the "already reported nearby" hint,
   the anonymous toggle and copy buttons. No framework, no third party; the pages work
   without it. */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }

  // --- copy buttons (status link, share link) ---------------------------------------
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    if (!navigator.clipboard) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(btn.getAttribute("data-copy")).then(function () {
        btn.textContent = "Đã sao chép ✓";
      });
    });
  });

  var form = $("#submit-form");
  if (!form) { return; }

  // --- anonymous: contact fields are not needed -------------------------------------
  var anon = $("#anonymous", form);
  var contact = $("#contact-fields", form);
  function syncAnon() { if (anon && contact) { contact.hidden = anon.checked; } }
  if (anon) { anon.addEventListener("change", syncAnon); syncAnon(); }

  // --- "use my location" --------------------------------------------------------------
  var lat = $("#lat", form), lon = $("#lon", form);
  var locBtn = $("#use-location", form), locStatus = $("#location-status", form);
  if (locBtn && navigator.geolocation) {
    locBtn.hidden = false;
    locBtn.addEventListener("click", function () {
      locStatus.textContent = "Đang xác định vị trí…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        lon.value = pos.coords.longitude.toFixed(6);
        lat.dispatchEvent(new Event("change"));  // the map shows the point and its ward
        locStatus.textContent = "Đã lấy vị trí (độ chính xác khoảng " +
          Math.round(pos.coords.accuracy) + " m).";
        checkNearby();
      }, function () {
        locStatus.textContent = "Không lấy được vị trí. Bạn có thể bỏ qua hoặc nhập toạ độ.";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // --- duplicate hint -------------------------------------------------------------------
  var box = $("#nearby", form);
  var field = $("#field_code", form), area = $("#area_code", form);
  var timer = null;
  function checkNearby() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (!box || !field || !field.value) { if (box) { box.hidden = true; } return; }
      var params = new URLSearchParams({ field: field.value });
      if (lat.value && lon.value) { params.set("lat", lat.value); params.set("lon", lon.value); }
      else if (area && area.value) { params.set("area", area.value); }
      else { box.hidden = true; return; }
      fetch(form.getAttribute("data-nearby-url") + "?" + params.toString(),
            { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { showNearby(data.items || []); })
        .catch(function () { box.hidden = true; });
    }, 400);
  }
  function showNearby(items) {
    var list = $("ul", box);
    list.textContent = "";
    items.forEach(function (it) {
      var li = document.createElement("li");
      var head = it.code + " · " + it.status + " · " + it.received +
        (it.distance ? " · cách " + it.distance : "");
      if (it.url) {
        var a = document.createElement("a");
        a.href = it.url; a.textContent = head; li.appendChild(a);
      } else {
        li.appendChild(document.createTextNode(head));
      }
      if (it.summary) {
        var p = document.createElement("div");
        p.className = "muted"; p.textContent = it.summary; li.appendChild(p);
      }
      list.appendChild(li);
    });
    box.hidden = items.length === 0;
  }
  [field, area, lat, lon].forEach(function (el) {
    if (el) { el.addEventListener("change", checkNearby); }
  });
})();
