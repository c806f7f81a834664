// The chat API (/api/v1, see docs of the HTTP API) as the widget uses it.
//
//   const api = new Api("https://amtslotse.example/", "musterkreis");
//   const config = await api.config();
//   await api.ask(conversationId, { text: "Zahlt das Jobcenter die Nebenkosten?" }, (name, data) => ...);
//
// No cookies: every request is made with credentials "omit"; the conversation is identified by
// an id the widget draws at random and keeps in memory only. The first answer of a conversation
// brings its secret (header X-Conversation-Token, also `conversation_token` in the answer); it
// stays in memory, in this object, and goes with every further message, feedback and handover.

const TOKEN_HEADER = "X-Conversation-Token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.serverMessage = message; // German sentence from the server, if any
  }
}

export class Api {
  constructor(base, tenant) {
    this.base = base;
    this.tenant = tenant;
    this.tokens = new Map(); // conversation id -> its secret
  }

  /** The header that proves this client started the conversation (none before its first answer). */
  tokenHeader(conversationId) {
    const token = this.tokens.get(conversationId);
    return token ? { [TOKEN_HEADER]: token } : {};
  }

  keepToken(conversationId, token) {
    if (token) this.tokens.set(conversationId, token);
  }

  url(path) {
    return new URL(path, this.base).href;
  }

  async request(path, { method = "GET", body, accept = "application/json", headers = {} } = {}) {
    const init = { method, credentials: "omit", headers: { Accept: accept, ...headers } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(this.url(path), init);
    } catch (error) {
      throw new ApiError(0, "network", null);
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  async json(path, options) {
    return (await this.request(path, options)).json();
  }

  config() {
    return this.json(`api/v1/tenants/${encodeURIComponent(this.tenant)}/config`);
  }

  passage(id) {
    return this.json(`api/v1/passages/${encodeURIComponent(id)}?tenant=${encodeURIComponent(this.tenant)}`);
  }

  feedback(conversationId, messageId, rating, comment) {
    const body = comment ? { rating, comment } : { rating };
    const path = `api/v1/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/feedback`;
    return this.json(path, { method: "POST", body, headers: this.tokenHeader(conversationId) });
  }

  handover(payload) {
    const headers = this.tokenHeader(payload.conversation_id);
    return this.json("api/v1/handovers", { method: "POST", body: payload, headers });
  }

  /** Sends a message and calls onEvent(name, data) for each server-sent event; returns the `done` answer. */
  async ask(conversationId, message, onEvent) {
    const path = `api/v1/conversations/${encodeURIComponent(conversationId)}/messages`;
    const response = await this.request(path, {
      method: "POST", accept: "text/event-stream", body: { tenant: this.tenant, ...message },
      headers: this.tokenHeader(conversationId),
    });
    this.keepToken(conversationId, response.headers.get(TOKEN_HEADER));
    if (!(response.headers.get("content-type") || "").includes("text/event-stream")) {
      const answer = await response.json(); // a server without streaming: the plain answer object
      this.keepToken(conversationId, answer.conversation_token);
      onEvent("done", answer);
      return answer;
    }
    let answer = null;
    for await (const { name, data } of readEvents(response.body)) {
      if (name === "error") throw new ApiError(response.status, data.code, data.message);
      if (name === "done") {
        answer = data;
        this.keepToken(conversationId, data.conversation_token);
      }
      onEvent(name, data);
    }
    if (!answer) throw new ApiError(response.status, "incomplete_stream", null);
    return answer;
  }
}

async function errorOf(response) {
  try {
    const { error } = await response.json();
    return new ApiError(response.status, error && error.code, error && error.message);
  } catch {
    return new ApiError(response.status, "http_error", null);
  }
}

/** Server-sent events from a byte stream: yields {name, data} with data parsed as JSON. */
export async function* readEvents(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    // Events end with a blank line; \r\n and \r count as line ends too. A trailing \r stays in
    // the buffer: its \n may arrive with the next chunk.
    const cut = buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
    const text = buffer.slice(0, cut).replace(/\r\n?/g, "\n");
    const parts = text.split("\n\n");
    buffer = parts.pop() + buffer.slice(cut);
    for (const part of parts) {
      const event = parseEvent(part);
      if (event) yield event;
    }
  }
  const last = parseEvent(buffer.replace(/\r\n?/g, "\n"));
  if (last) yield last;
}

function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  try {
    return { name, data: JSON.parse(data.join("\n")) };
  } catch {
    return null; // not ours: ignore rather than break the conversation
  }
}
