/* Maps of Tổng đài 1022 (Leaflet from our own static files). With a tile URL configured the
   province's tiles are the background; without one the wards themselves are: boundaries when
   loaded, otherwise circles at their centroids sized by their area. No third party. */
(function () {
  "use strict";
  if (!window.L) { return; }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) {
        return resp.json().then(function (body) {
          if (!resp.ok) { throw new Error(body.error || resp.statusText); }
          return body;
        });
      });
  }

  function withQuery(url, params) {
    var q = Object.keys(params).filter(function (k) { return params[k] !== "" && params[k] != null; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); });
    return q.length ? url + (url.indexOf("?") < 0 ? "?" : "&") + q.join("&") : url;
  }

  function radiusMetres(props) {
    return Math.sqrt((props.area_km2 || 20) / Math.PI) * 1000;
  }

  /* A map in ``node``: tiles if configured, and the wards drawn as the background. */
  function baseMap(node, opts) {
    // A view first: circles measured in metres need one before they can be drawn or fitted.
    var map = L.map(node, { zoomSnap: 0.5, tap: true }).setView([16, 106.5], 6);
    var tiles = node.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: node.getAttribute("data-attribution") || "" }).addTo(map);
    }
    // What a map marks (points, clusters, hot spots) is drawn above the wards.
    map.createPane("marks").style.zIndex = 450;
    var wards = L.featureGroup().addTo(map);
    var byId = {};
    var ready = getJSON(node.getAttribute("data-wards-url")).then(function (geo) {
      L.geoJSON(geo, {
        style: function () { return { color: "#4a6b82", weight: 1, fillColor: "#cfe0ea", fillOpacity: tiles ? 0.1 : 0.45 }; },
        pointToLayer: function (feature, latlng) {
          return L.circle(latlng, { radius: radiusMetres(feature.properties), color: "#4a6b82", weight: 1,
                                    fillColor: "#cfe0ea", fillOpacity: tiles ? 0.1 : 0.45, interactive: true });
        },
        onEachFeature: function (feature, layer) {
          byId[feature.properties.id] = layer;
          layer.bindTooltip(feature.properties.name, { sticky: true });
          if (opts && opts.onWardClick) {
            layer.on("click", function (ev) { opts.onWardClick(ev.latlng); });
          }
        }
      }).eachLayer(function (layer) { wards.addLayer(layer); });
      if (wards.getLayers().length) { map.fitBounds(wards.getBounds()); } else { map.setView([16, 106.5], 6); }
      return byId;
    }).catch(function () { map.setView([16, 106.5], 6); return byId; });
    return { map: map, wards: wards, ready: ready, byId: byId };
  }

  /* --- the citizen's submit form: tap to set the point, see the ward ----------------- */
  var pick = document.querySelector("[data-map-pick]");
  if (pick) {
    pick.hidden = false;
    var form = pick.closest("form");
    var lat = form.querySelector("#lat"), lon = form.querySelector("#lon");
    var wardBox = document.getElementById("map-ward");
    var areaSelect = form.querySelector("#area_code");
    var m = baseMap(pick, { onWardClick: function (ll) { setPoint(ll.lat, ll.lng, true); } });
    var marker = null;
    var locate = function (la, lo) {
      getJSON(withQuery(pick.getAttribute("data-at-url"), { lat: la, lon: lo })).then(function (body) {
        wardBox.textContent = "Xã, phường: " + body.name +
          (body.method === "boundary" ? " (theo ranh giới)" : " (gần tâm xã, phường nhất)");
        wardBox.setAttribute("data-ward-code", body.code);
        if (areaSelect && areaSelect.querySelector('option[value="' + body.code + '"]')) {
          areaSelect.value = body.code;
        }
      }).catch(function (err) {
        wardBox.textContent = err.message;
        wardBox.removeAttribute("data-ward-code");
      });
    };
    var setPoint = function (la, lo, fill) {
      if (fill) { lat.value = la.toFixed(6); lon.value = lo.toFixed(6); }
      if (marker) { marker.setLatLng([la, lo]); } else {
        marker = L.circleMarker([la, lo], { radius: 8, color: "#c41e3a", weight: 3, fillOpacity: 0.8, pane: "marks" }).addTo(m.map);
      }
      locate(la, lo);
    };
    m.map.on("click", function (ev) { setPoint(ev.latlng.lat, ev.latlng.lng, true); });
    var fromInputs = function () {
      var la = parseFloat(lat.value), lo = parseFloat(lon.value);
      if (!isNaN(la) && !isNaN(lo)) { setPoint(la, lo, false); m.map.setView([la, lo], Math.max(m.map.getZoom(), 13)); }
    };
    lat.addEventListener("change", fromInputs);
    lon.addEventListener("change", fromInputs);
    m.ready.then(fromInputs);
  }

  /* --- the public map of published reports, clustered on the server ------------------ */
  var pub = document.querySelector("[data-map-public]");
  if (pub) {
    var pm = baseMap(pub);
    var points = L.layerGroup().addTo(pm.map);
    var filters = document.getElementById("map-filters");
    var status = document.getElementById("map-status");
    var resultUrl = pub.getAttribute("data-result-url");
    var load = function () {
      var b = pm.map.getBounds();
      var params = { bbox: [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map(function (v) { return v.toFixed(4); }).join(","),
                     zoom: Math.round(pm.map.getZoom()), field: filters.field.value,
                     from: filters.from.value, to: filters.to.value };
      getJSON(withQuery(pub.getAttribute("data-clusters-url"), params)).then(function (body) {
        points.clearLayers();
        var total = 0;
        body.clusters.forEach(function (c) {
          total += c.count;
          if (c.count === 1) {
            var mk = L.circleMarker([c.lat, c.lon], { radius: 7, color: "#c41e3a", weight: 2, fillOpacity: 0.7, pane: "marks" });
            var link = document.createElement("a");
            link.href = resultUrl + "/" + encodeURIComponent(c.code);
            link.textContent = c.code + (c.field ? " · " + c.field : "");
            mk.bindPopup(link);
            points.addLayer(mk);
          } else {
            var size = Math.min(56, 22 + Math.round(Math.log(c.count) * 6));
            var label = document.createElement("span");
            label.textContent = String(c.count);
            label.style.lineHeight = (size - 4) + "px";
            var icon = L.divIcon({ className: "map-cluster", html: label, iconSize: [size, size] });
            var cm = L.marker([c.lat, c.lon], { icon: icon, title: c.count + " phản ánh", pane: "marks" });
            cm.on("click", function () { pm.map.setView([c.lat, c.lon], Math.min(18, pm.map.getZoom() + 2)); });
            points.addLayer(cm);
          }
        });
        status.textContent = total + " phản ánh trong khung nhìn.";
      }).catch(function (err) { status.textContent = err.message; });
    };
    pm.ready.then(function () { pm.map.on("moveend", load); load(); });
    filters.addEventListener("change", load);
  }

  /* --- the staff's hot spots: one circle per ward, sized by the count shown ----------- */
  var hot = document.querySelector("[data-map-hotspot]");
  if (hot) {
    var hm = baseMap(hot);
    var spots = L.layerGroup().addTo(hm.map);
    var hf = document.getElementById("hotspot-filters");
    var tbody = document.querySelector("#hotspot-table tbody");
    var draw = function () {
      var show = hf.show.value;
      getJSON(withQuery(hot.getAttribute("data-hotspots-url"), { from: hf.from.value, to: hf.to.value })).then(function (body) {
        spots.clearLayers();
        tbody.textContent = "";
        var max = 1;
        body.wards.forEach(function (w) { max = Math.max(max, w[show]); });
        body.wards.forEach(function (w) {
          if (w.level !== "commune" || w.lat == null || !w[show]) { return; }
          var r = 6 + 24 * Math.sqrt(w[show] / max);
          var c = L.circleMarker([w.lat, w.lon], { radius: r, color: show === "overdue" ? "#b00020" : "#d9822b",
                                                   weight: 1, fillOpacity: 0.6, pane: "marks" });
          c.bindTooltip(w.name + ": " + w.total + " phản ánh, " + w.open + " đang xử lý, " + w.overdue + " quá hạn");
          spots.addLayer(c);
        });
        body.wards.slice(0, 15).forEach(function (w) {
          var tr = document.createElement("tr");
          [w.name, w.total, w.open, w.overdue].forEach(function (v) {
            var td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td);
          });
          tbody.appendChild(tr);
        });
      }).catch(function (err) {
        var tr = document.createElement("tr"); var td = document.createElement("td");
        td.colSpan = 4; td.textContent = err.message; tr.appendChild(td); tbody.appendChild(tr);
      });
    };
    hm.ready.then(draw);
    hf.show.addEventListener("change", draw);
  }

  /* --- a ticket's point and ward on its staff page ----------------------------------- */
  document.querySelectorAll("[data-map-ticket]").forEach(function (node) {
    if (node.getAttribute("data-drawn")) { return; }
    node.setAttribute("data-drawn", "1");
    var tm = baseMap(node);
    tm.ready.then(function (byId) {
      var ward = byId[node.getAttribute("data-ward-id")];
      if (ward) { ward.setStyle({ color: "#c41e3a", weight: 2 }); }
      var la = parseFloat(node.getAttribute("data-lat")), lo = parseFloat(node.getAttribute("data-lon"));
      if (!isNaN(la) && !isNaN(lo)) {
        L.circleMarker([la, lo], { radius: 8, color: "#c41e3a", weight: 3, fillOpacity: 0.8, pane: "marks" }).addTo(tm.map);
        tm.map.setView([la, lo], 14);
      } else if (ward) {
        tm.map.fitBounds(ward.getBounds());
      }
    });
  });
}());
