(function () {
  const page = JSON.parse(document.getElementById('dashboard-data').textContent);
  const DAY = 86400000;
  const rowsOf = {};
  for (const [id, data] of Object.entries(page.datasets)) {
    rowsOf[id] = data.rows.map(
      (row) => Object.fromEntries(data.columns.map((column, i) => [column, row[i]])));
  }
  const state = {};
  const views = {};

  function filtered(visual) {
    let rows = rowsOf[visual.dataset];
    for (const filter of page.filters) {
      if (filter.dataset !== visual.dataset) continue;
      if (filter.visuals && !filter.visuals.includes(visual.id)) continue;
      const kind = page.parameters[filter.parameter].kind;
      if (kind === 'date_range') {
        const from = state[filter.parameter + 'From'];
        const to = state[filter.parameter + 'To'];
        if (from == null && to == null) continue;
        rows = rows.filter((row) => {
          const value = row[filter.column];
          return value != null && (from == null || value >= from)
            && (to == null || value < to + DAY);
        });
      } else {
        const chosen = state[filter.parameter];
        if (chosen) rows = rows.filter((row) => String(row[filter.column]) === chosen);
      }
    }
    return rows;
  }

  async function render(visual) {
    const card = document.getElementById('visual-' + visual.id);
    const chart = card.querySelector('.chart');
    const message = card.querySelector('.no-data');
    const rows = filtered(visual);
    card.dataset.rows = String(rows.length);
    if (rows.length === 0) {
      const whole = rowsOf[visual.dataset].length;
      message.textContent = whole === 0
        ? (page.datasets[visual.dataset].note || 'No data.')
        : page.noRowsForFilters;
      message.hidden = false;
      chart.hidden = true;
      card.dataset.state = 'no-data';
      return;
    }
    message.hidden = true;
    chart.hidden = false;
    try {
      // Vega adds fields to the rows it reads, and every visual has its own: copies each.
      const copies = rows.map((row) => Object.assign({}, row));
      if (!views[visual.id]) {
        const spec = Object.assign({}, visual.spec, {data: {name: 'rows', values: copies}});
        const result = await vegaEmbed(chart, spec, {renderer: 'svg', actions: false});
        views[visual.id] = result.view;
      } else {
        await views[visual.id].data('rows', copies).runAsync();
      }
      card.dataset.state = 'rendered';
    } catch (error) {
      card.dataset.state = 'error';
      console.error('visual ' + visual.id + ': ' + error);
    }
  }

  function renderAll() {
    document.body.dataset.ready = 'false';
    return Promise.all(page.visuals.map(render)).then(() => {
      document.body.dataset.ready = 'true';
    });
  }

  function read(input) {
    const name = input.dataset.parameter;
    if (input.type === 'date') {
      const key = name + (input.dataset.bound === 'from' ? 'From' : 'To');
      state[key] = input.value ? Date.parse(input.value) : null;
    } else {
      state[name] = input.value;
    }
  }
  for (const input of document.querySelectorAll('[data-parameter]')) {
    read(input);
    input.addEventListener('change', () => {
      read(input);
      renderAll();
    });
  }
  for (const tab of document.querySelectorAll('[role=tab]')) {
    tab.addEventListener('click', () => {
      for (const other of document.querySelectorAll('[role=tab]')) {
        other.setAttribute('aria-selected', String(other === tab));
      }
      for (const sheet of document.querySelectorAll('.sheet')) {
        sheet.hidden = sheet.id !== 'sheet-' + tab.dataset.sheet;
      }
    });
  }
  renderAll();
})();
