"""A kernel of a user's Jupyter server on a hub, driven over the server's REST and websocket API.

What JupyterLab does in the student's browser: POST /api/kernels starts a kernel in the student's own
server (so it runs with that server's environment: $JUPYTERHUB_USER, the class), and
/api/kernels/<id>/channels carries Jupyter messages (protocol 5.3, JSON frames) both ways. Why not nbclient:
it drives kernels it starts itself through jupyter_client on this machine, not a kernel of another server.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

import nbformat
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect


class CellError(AssertionError):
    """A cell raised in the remote kernel: its traceback, as the notebook would show it."""


@dataclass
class RemoteKernel:
    server_url: str  # http://127.0.0.1:<hub port>/user/<name>/
    token: str
    kernel_id: str = ""
    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    _connection: WebSocketClientConnection | None = None

    def _rest(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.server_url.rstrip("/") + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    async def start(self) -> RemoteKernel:
        self.kernel_id = (await asyncio.to_thread(self._rest, "POST", "/api/kernels", {"name": "python3"}))[
            "id"
        ]
        url = self.server_url.replace("http://", "ws://").rstrip("/")
        request = HTTPRequest(
            f"{url}/api/kernels/{self.kernel_id}/channels?session_id={self.session}",
            headers={"Authorization": f"token {self.token}"},
        )
        self._connection = await websocket_connect(request)
        return self

    async def execute(self, code: str, timeout_s: float = 240.0) -> list[str]:
        """Runs one cell; its text outputs (streams and text/plain results). CellError if it raised."""
        assert self._connection is not None, "start() first"
        msg_id = uuid.uuid4().hex
        message = {
            "header": {
                "msg_id": msg_id,
                "username": "test",
                "session": self.session,
                "msg_type": "execute_request",
                "version": "5.3",
                "date": "",
            },
            "parent_header": {},
            "metadata": {},
            "content": {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
            "buffers": [],
            "channel": "shell",
        }
        await self._connection.write_message(json.dumps(message))
        outputs: list[str] = []
        error: dict[str, Any] | None = None
        idle = replied = False
        async with asyncio.timeout(timeout_s):
            while not (idle and replied):
                frame = await self._connection.read_message()
                if frame is None:
                    raise CellError("the kernel's websocket closed")
                reply = json.loads(frame)
                if reply.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = reply["msg_type"], reply["content"]
                if kind == "stream":
                    outputs.append(content["text"])
                elif kind in ("execute_result", "display_data"):
                    outputs.append(content["data"].get("text/plain", ""))
                elif kind == "error":
                    error = content
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
                elif kind == "execute_reply":
                    replied = True
        if error is not None:
            raise CellError(f"{error['ename']}: {error['evalue']}\n" + "\n".join(error["traceback"]))
        return outputs

    async def run_notebook(self, notebook: nbformat.NotebookNode) -> None:
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.source.strip():
                try:
                    await self.execute(cell.source)
                except CellError as error:
                    raise CellError(f"cell {cell.get('id')}:\n{cell.source}\n{error}") from None

    async def shutdown(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self.kernel_id:
            await asyncio.to_thread(self._rest, "DELETE", f"/api/kernels/{self.kernel_id}")
