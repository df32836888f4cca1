"""The REST API shell: the NinjaAPI instance, key authentication, rate limits and error mapping."""
