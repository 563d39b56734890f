"""A strategy of your own: `fetchviz -s examples/session_loop.py:session_loop`.

The same `for` loop as `sync`, with one `requests.Session`: still one request at a time, but
each after the first reuses the open connection instead of opening a new one.
"""

import requests


def session_loop(job):
    """sync's for loop over one requests.Session: one at a time, one connection"""
    with requests.Session() as session:
        for i in range(job.tasks):
            with job.fetching(i) as fetch:
                response = session.get(job.urls[i], timeout=job.timeout, verify=job.verify)
                fetch.done(response.status_code, len(response.content))
