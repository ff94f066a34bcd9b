// An OpenAI-compatible chat endpoint over node-llama-cpp, for scudo's tests: GET /v1/models and
// POST /v1/chat/completions, with and without `stream: true` (server-sent events). One model, one
// thread, one request at a time; prints `listening PORT` on stdout once the model is loaded.
//   node server.mjs MODEL.gguf [PORT] [ALIAS]
// Every request body is appended to $SCUDO_LLM_LOG when set, so tests can read what was sent.
import http from "node:http";
import fs from "node:fs";
import {getLlama, LlamaChatSession} from "node-llama-cpp";

const [modelPath, portArg = "0", alias = "smollm2"] = process.argv.slice(2);
const log = process.env.SCUDO_LLM_LOG;
const llama = await getLlama({gpu: false, build: "never"});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({contextSize: 2048, threads: 1});
const sequence = context.getSequence();

let queue = Promise.resolve();
function serially(task) {
    const next = queue.then(task, task);
    queue = next.catch(() => {});
    return next;
}

function json(res, status, body) {
    res.writeHead(status, {"content-type": "application/json"});
    res.end(JSON.stringify(body));
}

async function complete(body, onText) {
    const messages = body.messages ?? [];
    const system = messages.filter(m => m.role === "system").map(m => m.content).join("\n");
    const turns = messages.filter(m => m.role !== "system");
    const last = turns.pop();
    sequence.clearHistory();
    const session = new LlamaChatSession({contextSequence: sequence, systemPrompt: system || undefined, autoDisposeSequence: false});
    const history = session.getChatHistory();
    for (const m of turns) {
        history.push(m.role === "user" ? {type: "user", text: m.content} : {type: "model", response: [m.content]});
    }
    session.setChatHistory(history);
    const text = await session.prompt(last?.content ?? "", {
        temperature: body.temperature ?? 0,
        seed: body.seed ?? 1,
        maxTokens: body.max_tokens ?? 256,
        onTextChunk: onText,
    });
    session.dispose({disposeSequence: false});
    return text;
}

const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/v1/models") {
        return json(res, 200, {object: "list", data: [{id: alias, object: "model", owned_by: "scudo-tests"}]});
    }
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        return json(res, 404, {error: {message: `no route ${req.method} ${req.url}`, type: "invalid_request_error"}});
    }
    let raw = "";
    req.on("data", c => raw += c);
    req.on("end", () => serially(async () => {
        if (log) fs.appendFileSync(log, raw + "\n");
        let body;
        try { body = JSON.parse(raw); } catch { return json(res, 400, {error: {message: "body is not JSON"}}); }
        if (body.model !== alias) {
            return json(res, 404, {error: {message: `The model \`${body.model}\` does not exist`, type: "invalid_request_error", code: "model_not_found"}});
        }
        const id = "chatcmpl-" + Date.now();
        if (body.stream) {
            res.writeHead(200, {"content-type": "text/event-stream", "cache-control": "no-cache"});
            const send = d => res.write(`data: ${JSON.stringify(d)}\n\n`);
            send({id, object: "chat.completion.chunk", model: alias, choices: [{index: 0, delta: {role: "assistant"}}]});
            await complete(body, chunk => send({id, object: "chat.completion.chunk", model: alias, choices: [{index: 0, delta: {content: chunk}}]}));
            send({id, object: "chat.completion.chunk", model: alias, choices: [{index: 0, delta: {}, finish_reason: "stop"}]});
            res.end("data: [DONE]\n\n");
        } else {
            const text = await complete(body, () => {});
            json(res, 200, {id, object: "chat.completion", model: alias,
                choices: [{index: 0, message: {role: "assistant", content: text}, finish_reason: "stop"}]});
        }
    }).catch(e => { if (!res.headersSent) json(res, 500, {error: {message: String(e)}}); else res.end(); }));
});
server.listen(Number(portArg), "127.0.0.1", () => console.log(`listening ${server.address().port}`));
