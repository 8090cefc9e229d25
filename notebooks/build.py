"""Writes the notebooks from the cells below: one skeleton, navigation between them, no outputs.

    .venv/bin/python notebooks/build.py [OUT_DIR]     # rewrites notebooks/NN-topic.ipynb

Edit the cells here (or edit a notebook and copy the change back): every notebook follows the skeleton
Goal, Prerequisites, Background, Plan, Apply, Verify, Try it, Exercises, Recap, Next, starts a fresh lab
for $SERVERLESS_LAB_STUDENT, and keeps its logic in the library (serverless_lab.teaching, .exercises,
.widgets, .flow), so no cell holds more than a few lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SKELETON = ("Goal", "Prerequisites", "Background", "Plan", "Apply", "Verify", "Try it", "Exercises", "Recap", "Next")
SETUP = """from serverless_lab import Lab, teaching
from serverless_lab.exercises import check

lab = Lab(student=teaching.student())  # $SERVERLESS_LAB_STUDENT, or "student"
"""


def setup(prerequisites: str = "lab") -> Cell:
    """The first code cell of every notebook: the lab for this student, then its prerequisites."""
    return code(SETUP + prerequisites)

Cell = tuple[str, str]


def md(text: str) -> Cell:
    return ("markdown", text.strip("\n"))


def code(text: str) -> Cell:
    return ("code", text.strip("\n"))


NOTEBOOKS: dict[str, tuple[str, list[Cell]]] = {}

NOTEBOOKS["00-overview"] = ("The lab and the architecture", [
    md("""
## Goal
See the whole application before building it piece by piece: which AWS service does what, how this lab
stands in for each one on your machine, and where the lab differs from AWS.

## Prerequisites
Nothing deployed yet. The first cell connects to the lab's backend: a moto server on 127.0.0.1 that the
lab starts when none runs (`make lab` starts it for you) and that every notebook shares.
"""),
    setup(),
    md("""
## Background
```
browser ──> CloudFront (edge cache) ──> S3 (static site: HTML, CSS, JS)       01-static-site, 02-cdn
   ├──> Cognito (sign up, sign in, JWT tokens)                                03-users
   └──> API Gateway (Cognito authorizer) ──> Lambda (handlers/) ──> DynamoDB   06-api, 05-functions, 04-table
```
| AWS | control plane (what you configure) | data plane (what serves traffic) |
|---|---|---|
| S3, CloudFront, Cognito, DynamoDB, Lambda, API Gateway, IAM, CloudWatch Logs | **boto3** against moto (offline) or AWS: the same calls | offline, the lab's own: an edge cache, a gateway with a real Cognito authorizer, a Lambda runtime with real execution environments |

**Where the lab differs from AWS.** One edge location (`LHR50-P1`) instead of hundreds; latency is loopback
time, not the internet's; Lambda runs your handler in local processes (cold starts are real process starts,
but faster than AWS's); moto stores IAM policies without enforcing them; Cognito sends no e-mail (the lab
confirms accounts with `admin_confirm_sign_up`); prices in 08-latency are list prices copied into
`data/prices.json`, not a bill. Status codes, headers, event shapes and error messages follow AWS.
"""),
    md("""
## Plan
The stack is built in six steps, in the order AWS needs them. Each step can **plan** (the boto3 calls it
would make, nothing changed), **apply** (idempotent), **verify** (read-only checks) and **destroy**.
"""),
    code("""lab.steps"""),
    code("""lab.plan("site")  # the calls 01-static-site will make; nothing is changed"""),
    md("""
## Apply
This notebook deploys nothing. Every resource you create will carry your prefix, so students sharing one
backend never collide:
"""),
    code("""lab.names.prefix, lab.names.site_bucket"""),
    md("""
## Verify
Expected: one row per step; on a fresh start every state is `absent` (a step you already applied in another
notebook shows `deployed`).
"""),
    code("""lab.status()"""),
    md("""
## Try it
The step panel drives any step with buttons (in JupyterLab; run headless it prints its state). Press *plan*,
then *apply* on `site` if you like: 01 will find it deployed and carry on.
"""),
    code("""from serverless_lab.widgets import StepPanel

StepPanel(lab, "site")"""),
    md("""
## Exercises
1. What prefix do all your resource names start with? Replace the `"?"` and run the check.
"""),
    code("""check.knows_prefix(lab, "?")"""),
    md("""
## Recap
- The control plane is always boto3; offline, moto keeps the configuration and the lab serves the traffic.
- A step plans, applies, verifies and destroys; `lab.require(step)` deploys whatever a notebook needs first.
- Your resources are named `sl-<student>-…`.
"""),
])

NOTEBOOKS["01-static-site"] = ("S3: the static site", [
    md("""
## Goal
Store the web application (HTML, CSS, JavaScript) in a private S3 bucket, each file with the content type
and the cache lifetime a browser and CloudFront need.

## Prerequisites
None: the site is the first step.
"""),
    setup(),
    md("""
## Background
S3 stores *objects* (bytes plus metadata) under *keys* in a *bucket*. Two pieces of metadata matter for a
web site: `Content-Type` (a browser renders `text/html`, downloads `application/octet-stream`) and
`Cache-Control` (how long CloudFront and browsers may keep a copy). The bucket stays private — all four
*Block Public Access* settings on — because viewers will reach it only through CloudFront (02-cdn).
"""),
    md("""
## Plan
Expected: create the bucket, block public access, set the website configuration, then one `put_object` per
file of `data/site/` plus the generated `config.js`.
"""),
    code("""lab.plan("site")"""),
    md("""## Apply"""),
    code("""lab.apply("site")"""),
    md("""
## Verify
Expected: every check ✓ — the bucket exists, public access is blocked, and each file is served with its
content type and `Cache-Control` (`no-cache` for HTML and `config.js`, a day for the assets).
"""),
    code("""lab.verify("site")"""),
    md("""
## Try it
The same bucket read with plain boto3. Applying again plans nothing: the step is idempotent.
"""),
    code("""s3 = lab.backend.client("s3")
bucket = lab.outputs["site"]["bucket"]
[(o["Key"], o["Size"]) for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]"""),
    code("""head = s3.head_object(Bucket=bucket, Key="index.html")
head["ContentType"], head["CacheControl"], lab.plan("site")"""),
    md("""
## Exercises
1. Upload a page `hello.html` to your bucket with `s3.put_object`, so that a browser would *show* it
   (mind the `ContentType`). Then run the check.
"""),
    code("""# s3.put_object(Bucket=bucket, Key="hello.html", Body=b"<h1>Hello</h1>", ContentType=...)
check.site_has_page(lab, "hello.html")"""),
    md("""
## Recap
- A static site is objects in a bucket; `Content-Type` and `Cache-Control` are per-object metadata.
- The bucket is private; only CloudFront will read it.
- A step's plan is computed from what exists, so applying twice changes nothing.
"""),
])

NOTEBOOKS["02-cdn"] = ("CloudFront: the edge cache", [
    md("""
## Goal
Put a CloudFront distribution in front of the bucket and watch its cache live: a miss, a hit, a TTL running
out, and an invalidation.

## Prerequisites
The site bucket (01).
"""),
    setup("""lab.require("site")"""),
    md("""
## Background
An *edge location* answers a viewer from its cache when it holds a fresh copy (`X-Cache: Hit from
cloudfront`), otherwise it asks the *origin* — here S3, signed with an *origin access control* — and keeps
the answer for a TTL (`Miss from cloudfront`). The TTL comes from the object's `Cache-Control`, bounded by
the cache behaviour's Minimum/Default/Maximum TTL. Once expired, the edge revalidates with the origin
(`RefreshHit` when it answers 304). An *invalidation* removes paths before their TTL ends.
"""),
    md("""
## Plan
Expected: an origin access control, the distribution (S3 origin, `index.html` root, single-page-app error
pages, three cache behaviours), a wait until it is *Deployed*, and a bucket policy that lets only this
distribution read.
"""),
    code("""lab.plan("cdn")"""),
    md("""## Apply"""),
    code("""lab.apply("cdn")"""),
    md("""
## Verify
Expected: every check ✓, including the TTLs of each behaviour and the bucket policy naming this
distribution's ARN.
"""),
    code("""lab.verify("cdn")"""),
    md("""
## Try it
Requests go to the lab's edge location in-process (`lab.dataplane().handle_edge`). Expected: the first
`/style.css` is a *Miss*, the second a *Hit* with an `Age`; `/index.html` (`no-cache`) is a *Miss* every time.
"""),
    code("""[teaching.edge_get(lab, path) for path in ["/style.css", "/style.css", "/index.html", "/index.html"]]"""),
    code("""teaching.cache_behaviors(lab)  # TTL bounds per path pattern, in seconds"""),
    md("""
**A TTL running out, live.** Upload an object that asks for 2 seconds (`max-age=2`), fetch it, wait, fetch
again. Expected: Miss, Hit, then — after 2 s — a `RefreshHit` (the edge revalidated its copy with S3) .
"""),
    code("""import time

s3 = lab.backend.client("s3")
s3.put_object(Bucket=lab.outputs["site"]["bucket"], Key="ttl.txt", Body=b"short-lived", CacheControl="max-age=2")
before = [teaching.edge_get(lab, "/ttl.txt"), teaching.edge_get(lab, "/ttl.txt")]
time.sleep(2.2)
[*before, teaching.edge_get(lab, "/ttl.txt")]"""),
    md("""
**An invalidation.** Expected: after it, `/style.css` is a *Miss* again.
"""),
    code("""cloudfront = lab.backend.client("cloudfront")
distribution_id = lab.outputs["cdn"]["distribution_id"]
batch = {"Paths": {"Quantity": 1, "Items": ["/style.css"]}, "CallerReference": str(time.time())}
cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)["Invalidation"]["Status"]"""),
    code("""lab.dataplane().control_plane.refresh()  # the edge reads the invalidation now, not within a second
teaching.edge_get(lab, "/style.css"), teaching.cache_table(lab)"""),
    code("""from serverless_lab.widgets import CacheInspector

CacheInspector(lab, "/app.js")  # fetch, invalidate and watch the cache with buttons"""),
    md("""
## Exercises
1. Lower the **default** cache behaviour's `MaxTTL` (and `DefaultTTL`) to 10 seconds with
   `get_distribution_config` and `update_distribution(..., IfMatch=etag)`. Then make the edge hold
   `/style.css` for at most 10 s (the copy it already has keeps its old TTL: what removes it?).
   Afterwards `lab.plan("cdn")` shows the update the lab would make to put its settings back.
"""),
    code("""check.cdn_max_ttl_lowered(lab, seconds=10)"""),
    md("""
## Recap
- Hit, Miss and RefreshHit are in `X-Cache`; `Age` says how old a cached copy is.
- The TTL is the object's `Cache-Control`, bounded by the behaviour's min/max TTL.
- Changing a setting does not touch cached copies; invalidations do.
"""),
])

NOTEBOOKS["03-users"] = ("Cognito: users and tokens", [
    md("""
## Goal
Create the user pool, sign users in, read what their JSON Web Tokens say, and see API Gateway reject a
token that was tampered with.

## Prerequisites
The site and the distribution (the web app's sign-in form lives there).
"""),
    setup("""lab.require("cdn")"""),
    md("""
## Background
A Cognito *user pool* stores users; an *app client* is what the web app signs in through. A successful
sign-in returns three tokens: an **ID token** (who the user is: `sub`, `email`...), an **access token** and a
**refresh token**. ID and access tokens are JWTs: `header.payload.signature`, base64url-encoded and signed
with the pool's private RSA key (RS256). Anyone can *read* a JWT; only the pool can *sign* one, and API
Gateway checks the signature against the pool's public keys (JWKS).
"""),
    md("""
## Plan
Expected: the pool (password policy, e-mail sign-up), the app client (no secret, `USER_PASSWORD_AUTH` and
refresh tokens), and the sample users of `data/users.json`, confirmed.
"""),
    code("""lab.plan("users")"""),
    md("""## Apply"""),
    code("""lab.apply("users")"""),
    md("""
## Verify
Expected: every check ✓ — each sample user is `CONFIRMED` and signs in, and the pool publishes an RS256 key.
"""),
    code("""lab.verify("users")"""),
    md("""
## Try it
Sign Ada in and decode her ID token. Expected: `token_use` is `id`, `aud` is your app client, `iss` your pool.
"""),
    code("""tokens = teaching.sign_in(lab, "ada")
teaching.decode_token(tokens.id_token)["header"]"""),
    code("""teaching.claims_table(tokens.id_token)"""),
    md("""
Now the gateway. `lab.require("api")` deploys the table, the functions and the API (04–06 explain them).
Expected: Ada's real token → 200; the same token claiming to be someone else (signature kept) → 401
`Unauthorized`; no token → 401.
"""),
    code("""lab.require("api")
forged = teaching.tamper_token(tokens.id_token, sub="someone-else", email="mallory@example.com")
calls = [teaching.call_api(lab, "GET", "/me", token=token) for token in (tokens.id_token, forged, None)]
teaching.calls_table(calls)"""),
    md("""
## Exercises
1. Sign up a user of your own with `sign_up` (the app client's id is in `lab.outputs["users"]`), confirm the
   account with `admin_confirm_sign_up` (offline there is no e-mail), then run the check with the name and
   password you chose (8+ characters, upper and lower case, a digit).
"""),
    code("""cognito = lab.backend.client("cognito-idp")
# cognito.sign_up(ClientId=..., Username="lin", Password=..., UserAttributes=[{"Name": "email", "Value": ...}])
check.user_can_sign_in(lab, "lin", "Choose-a-Passw0rd")"""),
    md("""
## Recap
- A sign-in returns ID, access and refresh tokens; JWTs are readable by anyone, signed only by the pool.
- Changing a claim breaks the signature: the Cognito authorizer answers 401 before any function runs.
"""),
])

NOTEBOOKS["04-table"] = ("DynamoDB: the items table", [
    md("""
## Goal
Create the table behind the items API and learn its key design: queries that stay inside one user's
partition, newest first, and writes that refuse to overwrite.

## Prerequisites
The users (the sample items belong to the sample users' `sub`).
"""),
    setup("""lab.require("users")"""),
    md("""
## Background
A DynamoDB table is found by its **key**: the partition key `owner` (the Cognito `sub`) and the sort key
`itemId` (creation time in milliseconds, then random hex). A `Query` reads one partition, sorted by the
sort key, so "Ada's items, newest first" is one query with `ScanIndexForward=False` — and no user can reach
another's items. A **conditional write** succeeds only if a condition holds (`attribute_not_exists`,
`version = :v`), which is how the API refuses duplicates and lost updates.
"""),
    md("""
## Plan
Expected: `create_table` (on-demand billing), a wait until ACTIVE, and one `put_item` per sample item.
"""),
    code("""lab.plan("table")"""),
    md("""## Apply"""),
    code("""lab.apply("table")"""),
    md("""
## Verify
Expected: every check ✓ — ACTIVE, key `owner` + `itemId`, on-demand, the sample items present.
"""),
    code("""lab.verify("table")"""),
    md("""
## Try it
Ada's partition, newest first. Expected: three items, each with its `owner` equal to Ada's `sub`.
"""),
    code("""import pandas as pd
from boto3.dynamodb.types import TypeDeserializer

dynamodb, table = lab.backend.client("dynamodb"), lab.outputs["table"]["table_name"]
ada = lab.outputs["users"]["sample_subs"]["ada"]
answer = dynamodb.query(TableName=table, KeyConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "owner"},
                        ExpressionAttributeValues={":o": {"S": ada}}, ScanIndexForward=False)
pd.DataFrame([{k: TypeDeserializer().deserialize(v) for k, v in item.items()} for item in answer["Items"]])"""),
    md("""
A conditional write. Expected: the first `put_item` succeeds, the second is refused with
`ConditionalCheckFailedException` — nothing is overwritten.
"""),
    code("""item = {"owner": {"S": ada}, "itemId": {"S": "9999999999999-demo"}, "title": {"S": "Only once"}, "version": {"N": "1"}}
for attempt in (1, 2):
    try:
        dynamodb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(itemId)")
        print(attempt, "written")
    except dynamodb.exceptions.ConditionalCheckFailedException as error:
        print(attempt, error.response["Error"]["Code"], "-", error.response["Error"]["Message"])"""),
    md("""
## Exercises
1. Add a global secondary index `by-title` keyed by `owner` (HASH) and `title` (RANGE) with `update_table`
   (declare `title` in `AttributeDefinitions`), then query it for Ada's items in title order.
2. List Ada's item titles newest first (as the API does) and pass them to the check.
"""),
    code("""check.table_has_index(lab, "by-title")"""),
    code("""titles = []  # Ada's titles, newest first
check.titles_newest_first(lab, titles, "ada")"""),
    md("""
## Recap
- The key decides what you can ask cheaply: one partition per user, sorted by creation time.
- Conditions make writes safe without reading first.
- Indexes add other sort orders for the same partition.
"""),
])

NOTEBOOKS["05-functions"] = ("Lambda: the functions", [
    md("""
## Goal
Package and deploy the handlers of `handlers/`, invoke them, tell a cold start from a warm one, read their
logs back from CloudWatch Logs, and watch a function time out.

## Prerequisites
The table (the items function's policy names it).
"""),
    setup("""lab.require("table")"""),
    md("""
## Background
A **deployment package** is a zip of your code; Lambda identifies it by `CodeSha256`. An invocation runs in
an **execution environment**: the first one for a function starts it (**cold start**: the *Init* phase runs
your module's top level), later ones reuse it (**warm**). Everything a function prints goes to CloudWatch
Logs, with `START`, `END` and a `REPORT` line (duration, billed duration, memory). A function that runs
past its timeout is stopped: `Task timed out after N seconds`.
"""),
    md("""
## Plan
Expected: an IAM role and a least-privilege policy, a log group per function, and `create_function` with
each zip (shown as its size and hash).
"""),
    code("""lab.plan("functions")"""),
    md("""## Apply"""),
    code("""lab.apply("functions")"""),
    md("""
## Verify
Expected: every check ✓ — role, policy, each function's runtime, handler, memory, timeout and code hash.
"""),
    code("""lab.verify("functions")"""),
    md("""
## Try it
The zip built here has the same hash as the deployed function: the same source gives the same bytes.
"""),
    code("""from serverless_lab.steps.packaging import build_zip, code_sha256

code_sha256(build_zip(lab.root / "handlers" / "me.py")), lab.outputs["functions"]["functions"]["me"]["code_sha256"]"""),
    md("""
Invoke `me` twice with an event like API Gateway's. Expected: the first is **cold** (an init time), the
second **warm** (no init, far faster).
"""),
    code("""import pandas as pd

event = {"httpMethod": "GET", "resource": "/me", "requestContext": {"authorizer": {"claims": {"sub": "42", "cognito:username": "ada"}}}}
runs = [lab.invoke("me", event) for _ in range(2)]
pd.DataFrame([{"cold": r.cold, "init_ms": r.init_ms, "duration_ms": r.duration_ms, "billed_ms": r.billed_ms, "status": r.payload["statusCode"]} for r in runs])"""),
    md("""The log lines, read back with the CloudWatch Logs client. Expected: `INIT_START`, `START`, the handler's
JSON line, `END`, `REPORT` — and the `REPORT` of the cold start carries an `Init Duration`. Each message
ends with its newline (`\\n`; the `REPORT` line with a tab before it), exactly as Lambda writes them to
CloudWatch Logs."""),
    code("""lab.dataplane().flush_logs()  # the runtime ships log lines in the background, as Lambda does
logs = lab.backend.client("logs")
events = logs.filter_log_events(logGroupName="/aws/lambda/" + lab.function_name("me"))["events"]
[event["message"] for event in events]"""),
    md("""
The same function through Lambda's own Invoke API, with boto3 as on AWS. Expected: `StatusCode` 200, the
handler's answer in `Payload`, and with `LogType="Tail"` the last lines of its log in `LogResult` (base64).
"""),
    code("""import base64, json

answer = lab.backend.client("lambda").invoke(FunctionName=lab.function_name("me"), Payload=json.dumps(event), LogType="Tail")
answer["StatusCode"], json.loads(answer["Payload"].read())["statusCode"], base64.b64decode(answer["LogResult"]).decode().splitlines()[-1]"""),
    md("""
A timeout: a function with a 1-second timeout asked to sleep 3 seconds. Expected: `Sandbox.Timedout`,
`Task timed out after 1.00 seconds`, a `REPORT` line with `Status: timeout`, and after it the line
CloudWatch shows at the end of every timed-out invoke (`Task timed out after 1.0x seconds`, the time it ran).
"""),
    code("""teaching.deploy_function(lab, "sleepy", teaching.extras.SLEEPY_SOURCE, timeout=1)
slow = lab.invoke("sleepy", {"seconds": 3})
slow.error, slow.logs[-2:]"""),
    code("""teaching.environments_table(lab)  # the execution environments kept warm for your functions"""),
    md("""
## Exercises
1. Give the `items` function 512 MB with `update_function_configuration`, invoke it, and find
   `Memory Size: 512 MB` in its `REPORT` line. (The lab would put 256 MB back: see `lab.plan("functions")`.)
"""),
    code("""check.function_memory(lab, "items", 512)"""),
    md("""
## Recap
- The package's hash identifies the code; the same source gives the same hash.
- Cold starts run the Init phase once per environment; warm invocations skip it.
- Logs go to `/aws/lambda/<function>`; the `REPORT` line is what you are billed for.
- Try Lambda's JSON log format: `update_function_configuration(FunctionName=..., LoggingConfig={"LogFormat":
  "JSON"})`, then, a second later (the lab re-reads a configuration at most once a second; Lambda too takes
  a moment to apply an update), invoke: `platform.start` and `platform.report` records replace `START` and
  `REPORT`, and `logging` records are JSON objects. `{"LogFormat": "Text"}` puts it back.
"""),
])

NOTEBOOKS["06-api"] = ("API Gateway: routes and the authorizer", [
    md("""
## Goal
Publish the functions as a REST API: routes, a Cognito authorizer in front of them, the event a function
receives, and the answers API Gateway gives when something is wrong.

## Prerequisites
The functions (and so everything before them).
"""),
    setup("""lab.require("functions")"""),
    md("""
## Background
A REST API is a tree of **resources** (`/items`, `/items/{id}`, `/me`) with **methods**; each method has an
**integration** — here *Lambda proxy*: API Gateway turns the HTTP request into an event, invokes the
function and turns its answer back into HTTP. The **Cognito authorizer** checks the `Authorization` header
first: a missing or invalid token is answered `401` by the gateway, the function never runs.
"""),
    md("""
## Plan
Expected: the API, its resources and methods (with CORS preflight), the authorizer, the proxy integrations,
the permissions for API Gateway to invoke the functions, and a deployment to stage `prod`.
"""),
    code("""lab.plan("api")"""),
    md("""## Apply"""),
    code("""lab.apply("api")"""),
    md("""
## Verify
Expected: every check ✓, among them `GET /items` answering 401 without a token and 200 with one.
"""),
    code("""lab.verify("api")"""),
    md("""
## Try it
The routes as API Gateway stores them:
"""),
    code("""gateway = lab.backend.client("apigateway")
[(r["path"], sorted(r.get("resourceMethods", {}))) for r in gateway.get_resources(restApiId=lab.outputs["api"]["rest_api_id"])["items"]]"""),
    md("""
Answers, right and wrong. Expected: 200 and 201 from the function; 401 `UnauthorizedException` from the
authorizer; 403 `MissingAuthenticationTokenException` for a route that does not exist; 404 and 400 from the
function itself.
"""),
    code("""calls = [
    teaching.call_api(lab, "GET", "/items", user="ada"),
    teaching.call_api(lab, "POST", "/items", user="ada", body={"title": "Try the API"}),
    teaching.call_api(lab, "GET", "/items"),
    teaching.call_api(lab, "GET", "/nowhere"),
    teaching.call_api(lab, "GET", "/items/no-such-item", user="ada"),
    teaching.call_api(lab, "POST", "/items", user="ada", body="{not json"),
]
teaching.calls_table(calls)"""),
    md("""
**The proxy event's anatomy.** A small function that answers with the event it received, behind an API of
its own (`ANY /{proxy+}`, same authorizer). Expected: `resource` is the template, `path` the concrete path,
the query and body as strings, and the verified claims under `requestContext.authorizer.claims`.
"""),
    code("""echo_api = teaching.deploy_echo_api(lab)
echo = teaching.call_api(lab, "POST", "/hello/world", user="grace", query="lang=en", body={"hi": 1}, rest_api_id=echo_api)
event = echo.json()
{key: event[key] for key in ("resource", "path", "httpMethod", "queryStringParameters", "pathParameters", "body")}"""),
    code("""event["requestContext"]["authorizer"]["claims"], sorted(event["requestContext"])"""),
    code("""from serverless_lab.widgets import ApiExplorer

ApiExplorer(lab)  # pick a user, a method, a path and a body; see the answer and its trace"""),
    md("""
**A Lambda authorizer.** Instead of a user pool, a function can decide: API Gateway calls it with the token
and the *method ARN* (`arn:aws:execute-api:…/prod/GET/hello`) and enforces the IAM policy it answers. The
`gatekeeper` allows tokens `student-…` for exactly the method they asked about, denies `blocked`, and
answers 401 to anything else. API Gateway caches each token's policy for 300 s. Expected: GET 200; the
same token on POST 403, refused by the cached GET-only policy without calling the function again; a fresh
token on POST 200; `blocked` 403 (an explicit deny); an unknown token and no token 401. Then the event of
the first call: the authorizer's `principalId` and `context` (values as strings) under
`requestContext.authorizer`, where the Cognito authorizer put `claims`.
"""),
    code("""gate_api = teaching.deploy_authorizer_api(lab)
gate_calls = [
    teaching.call_api(lab, method, "/hello", token=token, rest_api_id=gate_api)
    for method, token in [("GET", "student-ada"), ("POST", "student-ada"), ("POST", "student-grace"),
                          ("GET", "blocked"), ("GET", "nobody"), ("GET", None)]
]
display(teaching.calls_table(gate_calls))
gate_calls[0].json()["requestContext"]["authorizer"]"""),
    md("""
## Exercises
1. Create an item for **grace** through the API (`POST /items`), with a title of your choice, and check it
   landed in her partition.
"""),
    code("""# teaching.call_api(lab, "POST", "/items", user="grace", body={"title": ...})
check.item_created(lab, "grace", "My first item")"""),
    code("""teaching.remove_extras(lab)  # the extra APIs and functions are not part of the stack"""),
    md("""
## Recap
- Resources and methods route; a Lambda proxy integration hands the whole request to the function.
- The authorizer answers 401 before any function runs; unknown routes get 403.
- A Lambda authorizer answers a policy; API Gateway enforces and caches it per token, for every method.
- The function decides its own answers (404, 400...), and must add CORS headers itself.
- API Gateway may invoke a function (an integration's, an authorizer's) only if the function's resource
  policy says so (`lambda.add_permission` with a `SourceArn` covering the method, or
  `<api>/authorizers/<id>`; per alias): without it, 500. `lab.verify("api")` names a route it refuses.
- A stage serves its deployment, a snapshot: a route added afterwards answers 403 Missing Authentication
  Token until `create_deployment`; stage variables and throttling apply at once.
"""),
])

NOTEBOOKS["07-end-to-end"] = ("The whole flow, hop by hop", [
    md("""
## Goal
Follow one user through the whole application — load the site, sign up, sign in, create, list, read, update
and delete an item — and see every hop each request took.

## Prerequisites
The whole stack.
"""),
    setup("""lab.require("api")"""),
    md("""
## Background
A simulated user sends real HTTP requests on loopback: to the distribution's URL (edge → S3), to Cognito,
and to the API stage (gateway → authorizer → Lambda → DynamoDB). The lab's data plane records a *span* per
hop; `flow.trace` returns them as one tidy table, one row per hop.
"""),
    md("""
## Plan
Expected: every step is deployed, so nothing is left to plan.
"""),
    code("""{step: len(lab.plan(step)) for step in lab.steps}"""),
    md("""
## Apply
Serve the stack on 127.0.0.1 (a distribution gets a port of its own). Open the site URL in your browser
to use the app yourself.
"""),
    code("""from serverless_lab import flow

targets = flow.targets_for(lab)
targets.site_url, targets.api_url"""),
    md("""
## Verify
Expected: every check of every step ✓.
"""),
    code("""lab.verify()"""),
    md("""
## Try it
One user, every hop. Expected: `edge` and `s3-origin` rows for the site, `cognito` rows for sign-up and
sign-in, then for each API call `gateway`, `authorizer`, `lambda-init` (once: a cold start), `lambda-handler`
and `dynamodb`.
"""),
    code("""spans = lab.trace()  # the same as flow.trace(lab)
spans[["step", "component", "operation", "status", "duration_ms", "cold", "cache"]]"""),
    code("""flow.charts.waterfall(spans)  # one request's hops on a time line"""),
    code("""flow.latency_table(spans)  # per component: count, p50, p95, p99"""),
    md("""
## Exercises
1. Which component (the `client` rows left out) took the most time in total in this trace? Group `spans`
   by `component` and sum `duration_ms`, then pass the name.
"""),
    code("""check.slowest_hop(spans, "?")"""),
    md("""
## Recap
- A page load is edge + origin; a sign-in is Cognito; an API call is gateway, authorizer, Lambda, DynamoDB.
- The first API call of a function pays the cold start; the rest are warm.
"""),
])

NOTEBOOKS["08-latency"] = ("Latency and cost", [
    md("""
## Goal
Measure the application under load: latency distributions, cold against warm, cache hits against misses,
percentiles as concurrency grows, and what a million user sessions would cost on AWS.

## Prerequisites
The whole stack.
"""),
    setup("""lab.require("api")"""),
    md("""
## Background
Latency is a distribution, not a number: the **p50** is the typical request, the **p95/p99** the slow
tail users notice. Cold starts and cache misses live in that tail. More concurrent users need more Lambda
execution environments (more cold starts) and queue for the same machine — here your laptop, so read the
shapes, not the absolute numbers. The cost model multiplies what one session used (requests, GB-seconds,
bytes) by AWS list prices (`data/prices.json`).
"""),
    md("""
## Plan
A sweep: the same user flow at concurrency 1, 2 and 4, six users per level.
"""),
    code("""from serverless_lab import flow

levels, users_per_level = [1, 2, 4], 6
runner = flow.flow_sessions(flow.targets_for(lab))"""),
    md("""## Apply"""),
    code("""sweep = flow.sweep(runner, levels, users_per_level=users_per_level, progress=False)
summary = sweep.summary()"""),
    md("""
## Verify
Expected: one row per level, no errors, every session completed, and cold starts at the first levels.
"""),
    code("""summary[["concurrency", "users", "requests", "error_rate", "sessions_completed", "cold_starts", "api_p50_ms", "api_p95_ms"]]"""),
    md("""
## Try it
Expected: distributions per component; cold invocations far slower than warm ones; edge hits far faster
than misses; the p95 rising with concurrency; the cost dominated by a few lines.
"""),
    code("""flow.charts.latency_by_component(sweep.spans)"""),
    code("""flow.charts.cold_vs_warm(sweep.spans)"""),
    code("""flow.charts.hit_vs_miss(sweep.spans)"""),
    code("""flow.charts.percentiles_vs_concurrency(summary)"""),
    code("""cost = flow.cost_table(flow.measure_workload(sweep.spans))
flow.charts.cost_chart(cost)"""),
    code("""from serverless_lab.widgets import LatencyChart

LatencyChart(lab)  # move the sliders: each run adds a point"""),
    md("""
## Exercises
1. What was the p95 of the API calls at concurrency 4, in milliseconds? Read it from `summary`.
"""),
    code("""check.api_p95(summary, 4, 0.0)"""),
    md("""
## Recap
- Report percentiles; the tail is where cold starts and misses hide.
- Concurrency costs cold starts first, then queueing.
- Cost follows requests and GB-seconds: the same numbers you just measured.
"""),
])

NOTEBOOKS["09-teardown"] = ("Teardown", [
    md("""
## Goal
Remove everything, in the reverse order of creation, and prove nothing is left.

## Prerequisites
Whatever you deployed. Run on its own, this notebook deploys the stack first so there is something to remove.
"""),
    setup("""lab.require("api")"""),
    md("""
## Background
Dependencies point backwards (the API names the functions, the functions the table, the distribution the
bucket), so teardown goes in reverse: api, functions, table, users, cdn, site. AWS deletes a distribution
only once it is disabled and deployed, and a bucket only once it is empty; the steps do both.
"""),
    md("""
## Plan
Everything of yours on the backend, found by name prefix (not from the lab's records):
"""),
    code("""teaching.leftovers(lab)"""),
    md("""## Apply"""),
    code("""teaching.remove_extras(lab)  # what notebooks deployed beside the steps (echo, sleepy)
for step in reversed(lab.steps):
    lab.destroy(step)
    print("destroyed", step)"""),
    md("""
## Verify
Expected: every step `absent`, and an empty table of leftovers.
"""),
    code("""lab.status()"""),
    code("""teaching.leftovers(lab)"""),
    md("""
## Try it
The plans are full again: the whole stack could be rebuilt from scratch with `lab.require("api")`.
"""),
    code("""{step: len(lab.plan(step)) for step in lab.steps}"""),
    md("""
## Exercises
1. Confirm with the check that nothing of yours is left.
"""),
    code("""check.nothing_left(lab)"""),
    md("""
## Recap
- Tear down in reverse order of creation.
- Verify by listing what exists, not by trusting what you remember creating.
"""),
])

NOTEBOOKS["10-instructor"] = ("Instructor: the classroom", [
    md("""
## Goal
For the instructor of a workshop on one shared backend: see how far every student got, and reset one
student to a clean slate.

## Prerequisites
The shared backend (`make lab`). To have something to look at, this notebook deploys part of a practice
student's stack.
"""),
    setup("""practice = Lab(backend=lab.backend, student=f"{lab.student[:14]}-demo")
practice.require("users")"""),
    md("""
## Background
Every resource name carries its student's prefix, `sl-<student>-…`, and the lab saves each student's outputs
under the lab home. The classroom helpers find the students from both, then ask each step for its state
(`deployed`, `partial`, `absent`) with the same read-only plan a student sees.
"""),
    md("""
## Plan
Every student on the backend:
"""),
    code("""teaching.students(lab.backend)"""),
    md("""
## Apply
Reset the practice student: every step destroyed in reverse order, the notebooks' extras removed, the saved
outputs deleted. Expected: an empty table of what is left.
"""),
    code("""teaching.reset_student(lab.backend, practice.student)"""),
    md("""
## Verify
Expected: the practice student has nothing deployed any more.
"""),
    code("""teaching.progress(lab.backend, [practice.student, lab.student])"""),
    md("""
## Try it
The whole classroom, one row per student (this reads every student's steps, so it takes a moment on a
busy backend), and a step panel to act on any step of one student.
"""),
    code("""teaching.progress(lab.backend)"""),
    code("""from serverless_lab.widgets import StepPanel

StepPanel(practice, "site")"""),
    md("""
## Exercises
1. Check that the practice student is fully reset.
"""),
    code("""check.student_reset(lab.backend, practice.student)"""),
    md("""
## Recap
- Students are told apart by their prefix; progress is read from the backend, not from students' notes.
- A reset is a teardown in reverse order plus the saved outputs.
"""),
])


def navigation(names: list[str], index: int) -> str:
    previous = f"[← {names[index - 1]}]({names[index - 1]}.ipynb)" if index > 0 else ""
    following = f"[{names[index + 1]} →]({names[index + 1]}.ipynb)" if index + 1 < len(names) else ""
    return " · ".join(filter(None, [previous, "[all notebooks](00-overview.ipynb)", following]))


def build(name: str, title: str, cells: list[Cell], names: list[str]) -> nbformat.NotebookNode:
    index = names.index(name)
    header = f"# {name[:2]} · {title}\n\n{navigation(names, index)}"
    following = names[index + 1] if index + 1 < len(names) else None
    closing = (
        f"## Next\n[{following}]({following}.ipynb) — {NOTEBOOKS[following][0]}."
        if following
        else "## Next\nBack to [00-overview](00-overview.ipynb), or tear down with [09-teardown](09-teardown.ipynb)."
    )
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    all_cells = [md(header), *cells, md(closing)]
    notebook.cells = [
        nbformat.v4.new_markdown_cell(text) if kind == "markdown" else nbformat.v4.new_code_cell(text)
        for kind, text in all_cells
    ]
    for number, cell in enumerate(notebook.cells):
        cell.id = f"{name[:2]}-{number:02d}"  # stable ids: rebuilding changes nothing when the cells did not
    return notebook


def main(out: Path = HERE) -> list[Path]:
    """Writes every notebook into `out` (the notebooks folder by default); returns the paths."""
    names, written = list(NOTEBOOKS), []
    for name, (title, cells) in NOTEBOOKS.items():
        notebook = build(name, title, cells, names)
        nbformat.validate(notebook)
        path = Path(out) / f"{name}.ipynb"
        nbformat.write(notebook, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path)
