/*
 * Serverless Lab Notes: the browser side of the classic serverless web app.
 *
 *   browser --(this file)--> Cognito (sign up / sign in, JSON over HTTPS, no SDK)
 *           --(ID token)----> API Gateway (Cognito authorizer) -> Lambda -> DynamoDB
 *
 * No framework, no build step. Read it top to bottom: configuration, Cognito, the API, the page.
 *
 * Stable hooks for browser tests (Playwright):
 *   #status                  aria-live status line; data-kind="info" | "success" | "error"
 *   #offline-note            shown when config.offline is true (moto accepts any confirmation code)
 *   #signup-form  #signup-username  #signup-email  #signup-password  #signup-submit
 *   #confirm-form #confirm-username #confirm-code  #confirm-submit   #show-confirm
 *   #signin-form  #signin-username  #signin-password #signin-submit
 *   #auth-view (signed out)   #items-view (signed in)   #session  #user-name  #token-expiry  #signout
 *   #item-form  #item-title  #item-notes  #add-item  #item-list  #empty-list  #load-more  #refresh-items
 *   li.item[data-item-id][data-version]  in #item-list, one per item, newest first, containing:
 *       .item-done (checkbox)  .item-title  .item-notes  .item-edit  .item-delete
 *       after Delete: .item-confirm (role=group)  .item-confirm-delete  .item-keep
 *       while editing: form.item-edit-form  .item-edit-title  .item-edit-notes  .item-save  .item-cancel
 *       after a 409:   .item-conflict (role=alert)  .item-reload
 *   #undo-bar  #undo-text  #undo-delete   after a delete, for UNDO_MS: re-creates the note
 *   #latency-log > li.latency-entry[data-method][data-path][data-status][data-ms][data-cold]
 *       containing .cold-start when the function said the call started a new execution environment
 *   #edge-cache tbody > tr.edge-entry[data-path][data-load][data-x-cache]   #check-edge
 *       data-load: how this page loaded the file ("network" | "browser cache" | "not recorded");
 *       data-x-cache: the X-Cache of a HEAD request sent after the load, not of the load itself
 *   #me-claims  #backend-info
 */
"use strict";

// ---- Configuration ------------------------------------------------------------------------------
// config.js (written by the lab at upload time) sets window.SERVERLESS_LAB_CONFIG =
// {region, userPoolId, userPoolClientId, apiUrl, cognitoEndpoint, offline, backend}.
const config = window.SERVERLESS_LAB_CONFIG || null;
const TOKENS_KEY = "serverless-lab-tokens";
const REFRESH_MARGIN_MS = 60 * 1000; // refresh the tokens a minute before they expire
const PAGE_SIZE = 20;
const UNDO_MS = 10 * 1000; // how long "Undo" stays offered after a delete

const $ = (selector, root = document) => root.querySelector(selector);

// ---- Status line and latency log ----------------------------------------------------------------

function showStatus(message, kind = "info") {
  const status = $("#status");
  status.textContent = message;
  status.dataset.kind = kind;
}

// Every call to Cognito or the API goes through timedFetch, which measures it with the browser's
// own clock (performance.now: monotonic, sub-millisecond) and adds a line to the latency log.
async function timedFetch(label, path, url, options) {
  const started = performance.now();
  let response;
  try {
    response = await fetch(url, options);
    await response.clone().text(); // the call is done when the whole body has arrived
  } finally {
    const ms = performance.now() - started;
    // The functions behind the API say in their own X-Cold-Start header whether this request ran
    // their init in a new execution environment (readable here because they list it in
    // Access-Control-Expose-Headers). That is why a first call can take far longer than the next.
    const cold = Boolean(response && response.headers.get("X-Cold-Start") === "true");
    logLatency(label, path, response ? response.status : "network error", ms, cold);
  }
  return response;
}

function logLatency(method, path, status, ms, cold = false) {
  const entry = document.createElement("li");
  entry.className = "latency-entry";
  Object.assign(entry.dataset, { method, path, status: String(status), ms: ms.toFixed(1), cold: String(cold) });
  entry.textContent = `${method} ${path} → ${status} in ${ms.toFixed(0)} ms`;
  if (cold) {
    const tag = element("span", "cold-start", "cold start");
    tag.title = "Lambda started a new execution environment for this call: it loaded the code and ran its init first.";
    entry.append(" ", tag);
  }
  const log = $("#latency-log");
  log.prepend(entry);
  while (log.children.length > 25) log.lastElementChild.remove();
}

// ---- Cognito (the JSON API the AWS SDKs use, called with fetch) ---------------------------------
// Each operation is a POST to the Cognito endpoint; X-Amz-Target names the operation. The calls
// below need no AWS credentials: SignUp, ConfirmSignUp and InitiateAuth are public operations of an
// app client without a secret.

class CognitoError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type; // e.g. "NotAuthorizedException", "UsernameExistsException"
  }
}

async function cognito(operation, body) {
  const response = await timedFetch("Cognito", operation, config.cognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify({ ClientId: config.userPoolClientId, ...body }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    // Cognito errors look like {"__type": "NotAuthorizedException", "message": "Incorrect username or password."}
    const type = String(data.__type || "Error").split("#").pop();
    throw new CognitoError(type, data.message || data.Message || `${operation} failed (${response.status})`);
  }
  return data;
}

function signUp(username, email, password) {
  return cognito("SignUp", {
    Username: username,
    Password: password,
    UserAttributes: [{ Name: "email", Value: email }],
  });
}

function confirmSignUp(username, code) {
  return cognito("ConfirmSignUp", { Username: username, ConfirmationCode: code });
}

async function signIn(username, password) {
  const data = await cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  if (!data.AuthenticationResult) {
    throw new CognitoError(data.ChallengeName || "Challenge", `Cognito asks for ${data.ChallengeName}, which this page does not handle.`);
  }
  saveTokens(data.AuthenticationResult, null);
}

// The refresh token lives much longer than the ID token (1 hour); trading it in gives new ID and
// access tokens without asking for the password again.
async function refreshTokens() {
  const tokens = loadTokens();
  if (!tokens || !tokens.refreshToken) throw new CognitoError("NotAuthorizedException", "Please sign in again.");
  const data = await cognito("InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    AuthParameters: { REFRESH_TOKEN: tokens.refreshToken },
  });
  saveTokens(data.AuthenticationResult, tokens.refreshToken);
}

// ---- Tokens ------------------------------------------------------------------------------------
// sessionStorage keeps the tokens for this tab only and forgets them when the tab closes. Any script
// on the page can read it, which is why the page never inserts untrusted HTML (textContent only).

function saveTokens(result, previousRefreshToken) {
  const claims = decodeJwtPayload(result.IdToken);
  const tokens = {
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    refreshToken: result.RefreshToken || previousRefreshToken, // a refresh does not return a new one
    expiresAt: Date.now() + result.ExpiresIn * 1000,
    username: claims["cognito:username"] || claims.username || "",
  };
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  scheduleRefresh();
  showSession();
}

function loadTokens() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS_KEY));
  } catch {
    return null;
  }
}

// Reading the payload needs no key: a JWT is base64url JSON. The browser does not verify it;
// API Gateway's Cognito authorizer does, on every request.
function decodeJwtPayload(token) {
  const base64 = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const json = decodeURIComponent(
    Array.from(atob(base64), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("")
  );
  return JSON.parse(json);
}

let refreshTimer = null;

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const tokens = loadTokens();
  if (!tokens) return;
  const wait = Math.max(0, tokens.expiresAt - Date.now() - REFRESH_MARGIN_MS);
  refreshTimer = setTimeout(async () => {
    try {
      await refreshTokens();
      showStatus("Tokens refreshed with the refresh token.", "info");
    } catch (error) {
      signOut(`Your session ended (${error.message}). Please sign in again.`);
    }
  }, wait);
}

async function freshIdToken() {
  const tokens = loadTokens();
  if (!tokens) throw new CognitoError("NotAuthorizedException", "Please sign in.");
  if (tokens.expiresAt - Date.now() < REFRESH_MARGIN_MS) await refreshTokens();
  return loadTokens().idToken;
}

// ---- The items API -----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const idToken = await freshIdToken();
  const options = { method, headers: { Authorization: idToken } }; // the ID token, as the authorizer expects
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await timedFetch(method, path.split("?")[0], config.apiUrl + path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    // API Gateway's own errors ({"message": "Unauthorized"}) and ours have the same shape.
    throw new ApiError(response.status, (data && data.message) || `HTTP ${response.status}`, data);
  }
  return data;
}

const listItems = (cursor) =>
  api("GET", `/items?limit=${PAGE_SIZE}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""));
const createItem = (title, notes, done = false) => api("POST", "/items", { title, notes, done });
const updateItem = (id, changes, version) => api("PUT", `/items/${encodeURIComponent(id)}`, { ...changes, version });
const deleteItem = (id) => api("DELETE", `/items/${encodeURIComponent(id)}`);
const whoAmI = () => api("GET", "/me");

// ---- Page: signed out / signed in --------------------------------------------------------------

function showSession() {
  const tokens = loadTokens();
  const signedIn = Boolean(tokens);
  $("#auth-view").hidden = signedIn;
  $("#items-view").hidden = !signedIn;
  $("#session").hidden = !signedIn;
  if (signedIn) {
    $("#user-name").textContent = tokens.username;
    const time = new Date(tokens.expiresAt).toLocaleTimeString();
    $("#token-expiry").textContent = `ID token valid until ${time}`;
  }
}

function signOut(message = "Signed out.") {
  // Forgetting the tokens signs this tab out. (GlobalSignOut would also revoke the refresh token
  // on every device; the ID token stays valid until it expires either way.)
  sessionStorage.removeItem(TOKENS_KEY);
  clearTimeout(refreshTimer);
  $("#item-list").replaceChildren();
  $("#latency-log").replaceChildren(); // the calls of whoever was signed in are theirs, not the next user's
  hideUndo();
  $("#me-claims").textContent = "Sign in to see your claims.";
  showSession();
  showStatus(message, "info");
  $("#signin-username").focus();
}

async function afterSignIn() {
  showSession();
  $("#item-title").focus();
  await Promise.all([loadItems(), loadMe()]);
}

// Turns any error into a status message; an expired or rejected token signs the user out.
function reportError(action, error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut("The API rejected your token (401 Unauthorized). Please sign in again.");
    return;
  }
  const prefix = error instanceof ApiError ? `${error.status}: ` : error.type ? `${error.type}: ` : "";
  showStatus(`${action} failed. ${prefix}${error.message}`, "error");
}

// ---- Page: forms for Cognito --------------------------------------------------------------------

function showConfirmForm(username) {
  $("#confirm-form").hidden = false;
  if (username) $("#confirm-username").value = username;
  $("#confirm-hint").textContent = config && config.offline
    ? "Offline, moto accepts any code: type 123456, for example."
    : "Enter the code Cognito sent to your e-mail.";
  (username ? $("#confirm-code") : $("#confirm-username")).focus();
}

async function onSignUp(event) {
  event.preventDefault();
  const username = $("#signup-username").value.trim();
  try {
    const result = await signUp(username, $("#signup-email").value.trim(), $("#signup-password").value);
    if (result.UserConfirmed) {
      showStatus(`Account ${username} created and already confirmed. Sign in now.`, "success");
      $("#signin-username").value = username;
      $("#signin-password").focus();
    } else {
      const where = result.CodeDeliveryDetails ? ` to ${result.CodeDeliveryDetails.Destination}` : "";
      const sent = config.offline
        ? "Offline, no message is sent: any confirmation code works."
        : `A confirmation code was sent${where}.`;
      showStatus(`Account ${username} created. ${sent}`, "success");
      showConfirmForm(username);
    }
  } catch (error) {
    reportError("Sign up", error);
  }
}

async function onConfirm(event) {
  event.preventDefault();
  const username = $("#confirm-username").value.trim();
  try {
    await confirmSignUp(username, $("#confirm-code").value.trim());
    showStatus(`Account ${username} confirmed. Sign in now.`, "success");
    $("#confirm-form").hidden = true;
    $("#signin-username").value = username;
    $("#signin-password").focus();
  } catch (error) {
    reportError("Confirmation", error);
  }
}

async function onSignIn(event) {
  event.preventDefault();
  try {
    await signIn($("#signin-username").value.trim(), $("#signin-password").value);
    $("#signin-password").value = "";
    showStatus(`Signed in as ${loadTokens().username}.`, "success");
    await afterSignIn();
  } catch (error) {
    if (error.type === "UserNotConfirmedException") showConfirmForm($("#signin-username").value.trim());
    reportError("Sign in", error);
  }
}

// ---- Page: the list of items --------------------------------------------------------------------

let nextCursor = null;

async function loadItems(append = false) {
  try {
    const page = await listItems(append ? nextCursor : null);
    if (!append) $("#item-list").replaceChildren();
    for (const item of page.items) $("#item-list").append(renderItem(item));
    nextCursor = page.cursor;
    $("#load-more").hidden = !nextCursor;
    $("#empty-list").hidden = $("#item-list").children.length > 0;
  } catch (error) {
    reportError("Loading your notes", error);
  }
}

async function loadMe() {
  try {
    const me = await whoAmI();
    $("#me-claims").textContent = JSON.stringify(me, null, 2);
  } catch (error) {
    reportError("GET /me", error);
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // textContent, never innerHTML: no script injection
  return node;
}

function renderItem(item) {
  const row = element("li", "item");
  row.dataset.itemId = item.itemId;
  row.dataset.version = String(item.version);
  row.classList.toggle("is-done", item.done);

  const done = element("input", "item-done");
  done.type = "checkbox";
  done.checked = item.done;
  done.setAttribute("aria-label", `Done: ${item.title}`);
  done.addEventListener("change", () => saveChanges(row, { done: done.checked }, ".item-done"));

  const text = element("div", "item-text");
  text.append(element("span", "item-title", item.title));
  if (item.notes) text.append(element("p", "item-notes", item.notes));
  text.append(element("small", "item-meta muted", `version ${item.version} · updated ${new Date(item.updatedAt).toLocaleString()}`));

  const edit = element("button", "item-edit secondary", "Edit");
  edit.type = "button";
  edit.setAttribute("aria-label", `Edit ${item.title}`);
  edit.addEventListener("click", () => openEditor(row, item));

  const remove = element("button", "item-delete danger", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", `Delete ${item.title}`);
  remove.addEventListener("click", () => askToDelete(row, item));

  const actions = element("div", "item-actions");
  actions.append(edit, remove);
  row.append(done, text, actions);
  return row;
}

function openEditor(row, item) {
  const form = element("form", "item-edit-form");
  const titleId = `edit-title-${item.itemId}`;
  const notesId = `edit-notes-${item.itemId}`;
  const titleLabel = element("label", "", "Title");
  titleLabel.htmlFor = titleId;
  const title = element("input", "item-edit-title");
  Object.assign(title, { id: titleId, value: item.title, maxLength: 200, required: true });
  const notesLabel = element("label", "", "Notes");
  notesLabel.htmlFor = notesId;
  const notes = element("textarea", "item-edit-notes");
  Object.assign(notes, { id: notesId, value: item.notes, maxLength: 2000, rows: 2 });
  const save = element("button", "item-save", "Save");
  save.type = "submit";
  const cancel = element("button", "item-cancel secondary", "Cancel");
  cancel.type = "button";

  const close = () => {
    row.replaceWith(renderItem(item));
    $(`li.item[data-item-id="${CSS.escape(item.itemId)}"] .item-edit`).focus();
  };
  cancel.addEventListener("click", close);
  form.addEventListener("keydown", (event) => event.key === "Escape" && close());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveChanges(row, { title: title.value, notes: notes.value });
  });
  const buttons = element("div", "item-actions");
  buttons.append(save, cancel);
  form.append(titleLabel, title, notesLabel, notes, buttons);
  row.replaceChildren(form);
  title.focus();
}

// PUT sends the version the page last saw. If someone else saved in between (another tab, another
// device), the function answers 409 Conflict instead of silently overwriting their change.
async function saveChanges(row, changes, focusAfter = ".item-edit") {
  const version = Number(row.dataset.version);
  try {
    const updated = await updateItem(row.dataset.itemId, changes, version);
    const fresh = renderItem(updated);
    row.replaceWith(fresh);
    $(focusAfter, fresh).focus();
    showStatus(`Saved "${updated.title}" (version ${updated.version}).`, "success");
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      showConflict(row, error);
    } else if (error instanceof ApiError && error.status === 404) {
      row.remove();
      showStatus("That note no longer exists (404); it was removed from the list.", "error");
    } else {
      reportError("Saving", error);
    }
  }
}

function showConflict(row, error) {
  $(".item-conflict", row)?.remove();
  const box = element("div", "item-conflict");
  box.setAttribute("role", "alert");
  box.append(element("p", "", `409 Conflict: ${error.message}`));
  const reload = element("button", "item-reload", "Load the latest version");
  reload.type = "button";
  reload.addEventListener("click", () => {
    const fresh = renderItem(error.body.item);
    row.replaceWith(fresh);
    $(".item-edit", fresh).focus();
  });
  box.append(reload);
  row.append(box);
  showStatus("Not saved: this note changed since you loaded it (409 Conflict).", "error");
  reload.focus();
}

async function onAddItem(event) {
  event.preventDefault();
  const title = $("#item-title");
  const notes = $("#item-notes");
  try {
    const item = await createItem(title.value, notes.value);
    $("#item-list").prepend(renderItem(item));
    $("#empty-list").hidden = true;
    title.value = "";
    notes.value = "";
    showStatus(`Added "${item.title}".`, "success");
  } catch (error) {
    reportError("Adding", error);
  }
  title.focus();
}

// Delete asks first, in the row itself (Keep is the default); after the delete, "Undo" stays offered
// for a few seconds. DynamoDB has no undelete: Undo creates the note again, with a new id and version 1.
function askToDelete(row, item) {
  const actions = $(".item-actions", row);
  const box = element("div", "item-actions item-confirm");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", `Delete ${item.title}?`);
  const question = element("span", "item-confirm-text", "Delete this note?");
  const yes = element("button", "item-confirm-delete danger", "Delete");
  yes.type = "button";
  const keep = element("button", "item-keep secondary", "Keep");
  keep.type = "button";
  const cancel = () => {
    box.replaceWith(actions);
    $(".item-delete", row).focus();
  };
  keep.addEventListener("click", cancel);
  box.addEventListener("keydown", (event) => event.key === "Escape" && cancel());
  yes.addEventListener("click", () => onDelete(row, item));
  box.append(question, yes, keep);
  actions.replaceWith(box);
  keep.focus();
}

async function onDelete(row, item) {
  try {
    await deleteItem(item.itemId);
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    $("#empty-list").hidden = $("#item-list").children.length > 0;
    showStatus(`Deleted "${item.title}".`, "success");
    offerUndo(item);
    ((next && $(".item-delete", next)) || $("#item-title")).focus();
  } catch (error) {
    reportError("Deleting", error);
  }
}

let undoTimer = null;

function offerUndo(item) {
  hideUndo();
  $("#undo-text").textContent = `"${item.title}" was deleted.`;
  $("#undo-bar").hidden = false;
  const button = $("#undo-delete");
  button.onclick = async () => {
    hideUndo();
    try {
      const restored = await createItem(item.title, item.notes, item.done);
      $("#item-list").prepend(renderItem(restored)); // newest first: a new id sorts first
      $("#empty-list").hidden = true;
      showStatus(`Restored "${restored.title}" as a new note (version ${restored.version}).`, "success");
    } catch (error) {
      reportError("Undoing the delete", error);
    }
  };
  undoTimer = setTimeout(hideUndo, UNDO_MS);
}

function hideUndo() {
  clearTimeout(undoTimer);
  $("#undo-bar").hidden = true;
  $("#undo-delete").onclick = null;
}

// ---- Page: the edge cache ----------------------------------------------------------------------
// CloudFront adds X-Cache ("Hit from cloudfront" / "Miss from cloudfront") and Age to what it serves.
// A page cannot read the headers of its own document, script and stylesheet loads, so the table says
// two things apart: how this page loaded each file (Resource Timing: from the network, or from the
// browser's cache when nothing was transferred), and what the edge answers a HEAD request sent now,
// after the load (cache: "no-store" skips the browser's cache). On a first visit the load came from
// the network and filled the edge's cache: the HEAD after it is a Hit, with an Age of a few seconds.

// Relative to the page, as index.html names them (the page may be served under a path prefix).
const STATIC_FILES = ["app.js", "style.css", "favicon.svg", "config.js"];

async function checkEdgeCache() {
  const rows = [];
  const paths = STATIC_FILES.map((file) => new URL(file, location.href).pathname);
  for (const path of [location.pathname, ...paths]) {
    let xCache = "unreachable";
    let age = "";
    try {
      const response = await fetch(path, { method: "HEAD", cache: "no-store" });
      xCache = response.headers.get("X-Cache") || `(no X-Cache, HTTP ${response.status})`;
      age = response.headers.get("Age") || "";
      // A HEAD answer has no body, but Chromium reports a fetch whose body is never read as aborted
      // (net::ERR_ABORTED, red in DevTools): reading the empty body completes the request.
      await response.arrayBuffer();
    } catch {
      // offline file:// or a network error: keep "unreachable"
    }
    // How the page itself got the file on load: transferSize 0 means from the browser's cache.
    const timing = path === location.pathname
      ? performance.getEntriesByType("navigation")[0]
      : performance.getEntriesByName(new URL(path, location.href).href)[0];
    const load = !timing ? "not recorded" : timing.transferSize === 0 ? "browser cache" : "network";
    const onLoad = timing ? `${load}, ${timing.duration.toFixed(0)} ms` : load;
    const row = document.createElement("tr");
    row.className = "edge-entry";
    Object.assign(row.dataset, { path, load, xCache });
    for (const value of [path, onLoad, xCache, age ? `${age} s` : ""]) row.append(element("td", "", value));
    rows.push(row);
  }
  $("#edge-cache tbody").replaceChildren(...rows);
}

// ---- Start -------------------------------------------------------------------------------------

function start() {
  $("#signup-form").addEventListener("submit", onSignUp);
  $("#confirm-form").addEventListener("submit", onConfirm);
  $("#signin-form").addEventListener("submit", onSignIn);
  $("#item-form").addEventListener("submit", onAddItem);
  $("#signout").addEventListener("click", () => signOut());
  $("#show-confirm").addEventListener("click", () => showConfirmForm($("#signup-username").value.trim()));
  $("#load-more").addEventListener("click", () => loadItems(true));
  $("#refresh-items").addEventListener("click", () => loadItems(false));
  $("#check-edge").addEventListener("click", checkEdgeCache);
  checkEdgeCache();

  if (!config) {
    showStatus("config.js is missing: upload the site with the lab so it writes config.js.", "error");
    return;
  }
  $("#offline-note").hidden = !config.offline;
  $("#backend-info").textContent =
    `Backend: ${config.backend || "aws"} · region ${config.region} · API ${config.apiUrl}`;

  showSession();
  if (loadTokens()) {
    scheduleRefresh();
    afterSignIn();
  } else {
    $("#signin-username").focus();
  }
}

start();
