"""A stand-in for the `elasticsearch` client: records requests and keeps documents per index
(aliases, external versions), enough to test the backend's wiring without a server. It does
not evaluate queries: `search()` answers whatever the test put in `responses`."""

from __future__ import annotations

from typing import Any

from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import BadRequestError, NotFoundError


def meta(status: int) -> ApiResponseMeta:
    return ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(),
                           duration=0.0, node=NodeConfig("http", "127.0.0.1", 9200))


class FakeIndices:
    def __init__(self, es: FakeElasticsearch) -> None:
        self.es = es

    def put_index_template(self, *, name: str, **body: Any) -> dict[str, Any]:
        self.es.templates[name] = body
        self.es.calls.append(("put_index_template", name))
        return {"acknowledged": True}

    def exists_alias(self, *, name: str) -> bool:
        return any(name in aliases for aliases in self.es.aliases.values())

    def exists(self, *, index: str) -> bool:
        return index in self.es.docs

    def get_alias(self, *, name: str) -> dict[str, Any]:
        found: dict[str, Any] = {index: {"aliases": {name: {}}}
                                 for index, aliases in self.es.aliases.items()
                                 if name in aliases}
        if not found:
            raise NotFoundError("alias missing", meta(404), {})
        return found

    def create(self, *, index: str, settings: Any = None, mappings: Any = None,
               aliases: Any = None) -> dict[str, Any]:
        if index in self.es.docs:
            raise BadRequestError("resource_already_exists_exception", meta(400), {})
        for alias, spec in (aliases or {}).items():
            if spec.get("is_write_index") and FakeIndices.exists_alias(self, name=alias):
                raise BadRequestError(f"alias [{alias}] has more than one write index",
                                      meta(400), {})
        self.es.docs[index] = {}
        self.es.versions[index] = {}
        self.es.aliases[index] = set(aliases or {})
        self.es.bodies[index] = {"settings": settings, "mappings": mappings}
        self.es.calls.append(("create", index))
        return {"acknowledged": True}

    def update_aliases(self, *, actions: list[dict[str, Any]]) -> dict[str, Any]:
        self.es.calls.append(("update_aliases", actions))
        for action in actions:
            (kind, spec), = action.items()
            if kind == "add":
                self.es.aliases[spec["index"]].add(spec["alias"])
            elif kind == "remove":
                self.es.aliases[spec["index"]].discard(spec["alias"])
            elif kind == "remove_index":
                self.delete(index=spec["index"])
        return {"acknowledged": True}

    def delete(self, *, index: str, **_: Any) -> dict[str, Any]:
        if index not in self.es.docs:
            raise NotFoundError("no such index", meta(404), {})
        for store in (self.es.docs, self.es.versions, self.es.aliases, self.es.bodies):
            store.pop(index, None)
        self.es.calls.append(("delete", index))
        return {"acknowledged": True}

    def put_settings(self, *, index: str, settings: Any) -> dict[str, Any]:
        self.es.calls.append(("put_settings", index, settings))
        return {"acknowledged": True}

    def refresh(self, *, index: str) -> dict[str, Any]:
        self.es.calls.append(("refresh", index))
        return {}


class FakeElasticsearch:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, dict[str, Any]]] = {}
        self.versions: dict[str, dict[str, int]] = {}
        self.aliases: dict[str, set[str]] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, Any] = {}
        self.calls: list[Any] = []
        self.searches: list[dict[str, Any]] = []
        self.responses: list[Any] = []
        self.fail_items: dict[str, dict[str, Any]] = {}  # _id -> {"status", "error"}
        self.indices = FakeIndices(self)

    def options(self, **options: Any) -> FakeElasticsearch:
        self.calls.append(("options", options))
        return self

    def resolve(self, name: str) -> str:
        if name in self.docs:
            return name
        targets = [index for index, aliases in self.aliases.items() if name in aliases]
        if len(targets) != 1:
            raise NotFoundError(f"no single index for {name}", meta(404), {})
        return targets[0]

    def bulk(self, *, operations: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        self.calls.append(("bulk", len(operations)))
        position = 0
        while position < len(operations):
            (kind, spec), = operations[position].items()
            position += 1
            doc = None
            if kind == "index":
                doc = operations[position]
                position += 1
            index = self.resolve(spec["_index"])
            doc_id = spec["_id"]
            result: dict[str, Any] = {"_index": index, "_id": doc_id, "status": 200}
            version = spec.get("version")
            current = self.versions[index].get(doc_id)
            if doc_id in self.fail_items:
                result.update(self.fail_items[doc_id])
            elif version is not None and current is not None and version < current:
                result.update(status=409, error={"type": "version_conflict_engine_exception"})
            elif kind == "index":
                self.docs[index][doc_id] = doc or {}
                self.versions[index][doc_id] = version or 0
                result["status"] = 201
            elif doc_id in self.docs[index]:
                del self.docs[index][doc_id]
                self.versions[index][doc_id] = version or 0
            else:
                result.update(status=404, result="not_found")
            items.append({kind: result})
        return {"errors": any("error" in next(iter(item.values())) for item in items),
                "items": items}

    def search(self, *, index: str, body: dict[str, Any]) -> dict[str, Any]:
        self.resolve(index)
        self.searches.append(body)
        if self.responses:
            return self.responses.pop(0)
        return {"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []},
                "aggregations": {}}

    # What the tests read.
    def live_index(self, alias: str) -> str:
        return self.resolve(alias)

    def documents(self, alias: str) -> dict[str, dict[str, Any]]:
        return self.docs[self.resolve(alias)]
