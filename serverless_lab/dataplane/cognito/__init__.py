"""Amazon Cognito user pools: the JSON API a browser calls to sign up and sign in.

moto stores the user pools and answers the operations; what lives here is what Cognito's public endpoint
(``https://cognito-idp.<region>.amazonaws.com/``) does for a page on another origin, as it behaves:

- ``cors.py``: the CORS preflight answered at the endpoint (200, ``Access-Control-Allow-Origin: *``, the
  requested headers allowed, POST, the ``x-amzn-*`` headers exposed, a two-day Max-Age), and the same
  Allow-Origin and Expose-Headers on every answer, errors included. Pure: no socket, no boto3.
- ``endpoint.py``: the lab's ``/cognito-idp/`` route: a preflight is answered there, only POSTs of a
  Cognito operation with a JSON body reach the backend, anything else gets the error an AWS JSON service
  gives. The backend is reached through the forwarder it is given (no socket of its own).
- ``passthrough.py``: that forwarder: the request, as the browser sent it, to the backend's Cognito.
"""
