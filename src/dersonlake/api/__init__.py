"""api layer: the local HTTP endpoint that speaks AWS's JSON protocols (``derson-lake serve``).

``app.create_app`` builds the ASGI app from services (``stepfunctions_service`` over the state
engine, ``dms_service`` over the replication store); ``protocol`` checks requests and shapes
responses with botocore's service models; ``pipelines`` registers the project's state machines.
This layer translates HTTP to calls of the lower layers and knows nothing of binlogs or files.
"""
