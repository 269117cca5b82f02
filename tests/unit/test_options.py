"""ClientOptions: one typed object for what both clients accept."""

from __future__ import annotations

import pytest

from gradio_jobs import AsyncClient, Client, ClientOptions


def test_a_misspelt_option_is_refused_in_pythons_words_before_anything_is_sent() -> None:
    # Port 9 (discard) on the loopback: nothing is contacted, the keyword fails first.
    with pytest.raises(TypeError, match=r"^Client\.__init__\(\) got an unexpected keyword argument 'hedaers'; "
                                         r"the client's options are: .*headers"):
        Client("http://127.0.0.1:9/", hedaers={"x": "y"})
    with pytest.raises(TypeError, match=r"^AsyncClient\.__init__\(\) got an unexpected keyword argument 'retries'"):
        AsyncClient("http://127.0.0.1:9/", retries=3)


def test_keywords_override_an_options_object_and_the_positional_token_is_the_token() -> None:
    shared = ClientOptions(stream_timeout=5.0, download_files=False)
    client = AsyncClient("http://127.0.0.1:9/", "hf_x", options=shared, stream_timeout=None)
    assert client.options.stream_timeout is None and client.options.download_files is False
    assert client.options.token == "hf_x" and shared.stream_timeout == 5.0
    with pytest.raises(TypeError, match="auth"):
        ClientOptions(auth="user")  # type: ignore[arg-type]
