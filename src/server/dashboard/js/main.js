// The dashboard's entry: asks for an API token once (sessionStorage), then routes the hash to a
// page module — #/ pipelines, #/runs (filters), #/runs/<id> (a run or a backfill), #/lineage,
// #/learning-roi. body[data-ready] tells the browser tests a page has finished drawing.
import { TOKEN_KEY, app, destroyCharts, forgetWhoami, h } from './lib.js';
import { lineagePage } from './lineage.js';
import { pipelinesPage } from './pipelines.js';
import { roiPage } from './roi.js';
import { runPage } from './run.js';
import { runsPage } from './runs.js';

const login = document.getElementById('login');
const forget = document.getElementById('forget');

async function route() {
  destroyCharts();
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    login.hidden = false;
    forget.hidden = true;
    app.replaceChildren();
    return;
  }
  login.hidden = true;
  forget.hidden = false;
  const hash = location.hash || '#/';
  const [pathPart, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  app.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    if (pathPart.startsWith('#/runs/')) await runPage(decodeURIComponent(pathPart.slice('#/runs/'.length)));
    else if (pathPart === '#/runs') await runsPage(params);
    else if (pathPart === '#/lineage') await lineagePage(params);
    else if (pathPart === '#/learning-roi') await roiPage();
    else await pipelinesPage();
    document.body.dataset.ready = 'true';
  } catch (err) {
    if (err.auth) {
      forgetWhoami();
      await route();
      document.getElementById('login-error').textContent = err.message;
      return;
    }
    app.replaceChildren(h('p', { class: 'error' }, err.message));
    document.body.dataset.ready = 'error';
  }
}

login.addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim());
  document.getElementById('login-error').textContent = '';
  forgetWhoami();
  route();
});
forget.addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  forgetWhoami();
  route();
});
window.addEventListener('hashchange', () => {
  document.body.dataset.ready = 'false';
  route();
});
route();
