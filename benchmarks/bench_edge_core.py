"""How much the edge cache saves: hit and miss latency as ratios of a plain S3 GetObject, same run.

The origin is boto3 `get_object` against moto in-process (the lab's `memory` backend), so the baseline
is what every request would cost without CloudFront. Run:

    .venv/bin/python benchmarks/bench_edge_core.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable, Mapping

import boto3
from moto import mock_aws

from serverless_lab.dataplane.cloudfront.edge import Edge
from serverless_lab.dataplane.cloudfront.model import (
    CacheBehavior,
    DistributionConfig,
    Origin,
    OriginCaller,
    OriginResponse,
)
from serverless_lab.dataplane.http import HttpRequest

BODY = b"<!doctype html>" + b"<p>catalogue item</p>" * 400  # ~8 KB of HTML


def s3_origin(s3) -> Callable[[str, str, Mapping[str, str]], OriginResponse]:
    def get(bucket: str, key: str, conditions: Mapping[str, str], caller: OriginCaller) -> OriginResponse:
        answer = s3.get_object(Bucket=bucket, Key=key)
        headers = {
            "Content-Type": answer["ContentType"],
            "Content-Length": str(answer["ContentLength"]),
            "ETag": answer["ETag"],
        }
        return OriginResponse(200, headers, answer["Body"].read())

    return get


def per_request_ms(action: Callable[[], object], requests: int) -> float:
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def threaded_rps(action: Callable[[], object], threads: int, requests: int) -> float:
    def worker() -> None:
        for _ in range(requests // threads):
            action()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return requests / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    requests = parser.parse_args().requests
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="bench-site")
        s3.put_object(Bucket="bench-site", Key="index.html", Body=BODY, ContentType="text/html")
        origin = s3_origin(s3)
        config = DistributionConfig(
            "EBENCH",
            "d.cloudfront.net",
            (Origin("site", "bench-site.s3.amazonaws.com"),),
            CacheBehavior("*", "site", compress=True, default_ttl=86400),
        )
        edge = Edge(distribution_source=lambda _: config, origin=origin, invalidations=lambda _: [])
        plain = HttpRequest("GET", "/index.html")
        gzip = HttpRequest("GET", "/index.html", headers=(("Accept-Encoding", "gzip"),))

        def miss() -> None:
            edge.purge("EBENCH")
            edge.handle("EBENCH", plain)

        baseline = per_request_ms(lambda: origin("bench-site", "index.html", {}, OriginCaller()), requests)
        results = {
            "S3 GetObject (baseline)": baseline,
            "edge miss": per_request_ms(miss, requests),
            "edge miss, gzip": per_request_ms(
                lambda: (edge.purge("EBENCH"), edge.handle("EBENCH", gzip)), requests
            ),
            "edge hit": per_request_ms(lambda: edge.handle("EBENCH", plain), requests),
            "edge hit, gzip": per_request_ms(lambda: edge.handle("EBENCH", gzip), requests),
        }
        print(f"{'path':<26}{'median ms':>12}{'x baseline':>12}")
        for name, value in results.items():
            print(f"{name:<26}{value:>12.4f}{value / baseline:>12.3f}")
        base_rps = threaded_rps(lambda: origin("bench-site", "index.html", {}, OriginCaller()), 8, requests)
        hit_rps = threaded_rps(lambda: edge.handle("EBENCH", plain), 8, requests)
        print(
            f"8 threads: S3 {base_rps:,.0f} req/s, edge hits {hit_rps:,.0f} req/s ({hit_rps / base_rps:.1f}x)"
        )


if __name__ == "__main__":
    main()
