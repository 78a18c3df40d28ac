-- 0006 pin search_path, down: the functions use the caller's search_path again.
ALTER FUNCTION chatgenius_notify() RESET search_path;
ALTER FUNCTION chatgenius_set_updated_at() RESET search_path;
ALTER FUNCTION chatgenius_advance_read_cursor() RESET search_path;
ALTER FUNCTION chatgenius_ulid() RESET search_path;
