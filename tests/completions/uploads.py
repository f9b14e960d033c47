"""Uploading a file the way staff do: logged in, through the upload form."""

from tests.factories import csrf_of, login, make_user


def staff_upload(client, session, university, filename, content, encoding=""):
    login(client, make_user(session, university=university))
    return client.post("/staff/uploads", data={"csrf_token": csrf_of(client, "/staff/uploads"),
                                               "encoding": encoding},
                       files={"file": (filename, content)}, follow_redirects=True)
