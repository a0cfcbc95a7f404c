"""Profile changes and the lenders' search, over the users table's `lender-search-index`.

The index is sparse: only a user who opted in (`searchable`) carries its keys, `search_prefix`
(the first characters of the name's search form: the partition) and `search_name` (the whole
form, then the user id, so equal names still differ), so the index holds searchable lenders
and no one else, spread over many partitions. See `domain.profiles`.
"""

from boto3.dynamodb.conditions import Key

from ..domain.profiles import PREFIX_LENGTH, LenderMatch, SearchQuery, search_form
from ..domain.users import User
from ..usecases.repositories import Page
from .aws import Database, Write, store_errors
from .cursors import CursorCodec
from .users import is_user, to_user

INDEX = "lender-search-index"


def search_keys(user: User) -> dict[str, str] | None:
    """The index keys a user's item carries, or None to be left out of the index (not opted
    in; or a name too short to look up, whose key would be empty)."""
    form = search_form(user.name)
    if not user.searchable or len(form) < PREFIX_LENGTH:
        return None
    return {"search_prefix": form[:PREFIX_LENGTH], "search_name": f"{form}#{user.user_id}"}


class ProfileRecords:
    def __init__(self, db: Database, writes: list[Write], cursors: CursorCodec):
        self._db = db
        self._writes = writes
        self._cursors = cursors
        self._name = db.names.users

    def update(self, before: User, after: User) -> None:
        """`after`'s name and searchability, if the item still has `before`'s (else LostRace)."""
        keys = search_keys(after) or {}
        update = "SET " + ", ".join(["#name = :name", "searchable = :searchable", *(f"{k} = :{k}" for k in keys)])
        # Users written before profiles could change have no `searchable`: they are not.
        seen = "searchable = :seen" if before.searchable else "(attribute_not_exists(searchable) OR searchable = :seen)"
        request = {
            "TableName": self._name,
            "Key": {"user_id": after.user_id},
            "UpdateExpression": update if keys else update + " REMOVE search_prefix, search_name",
            "ConditionExpression": f"#name = :seen_name AND {seen}",
            "ExpressionAttributeNames": {"#name": "name"},  # a reserved word
            "ExpressionAttributeValues": {
                ":name": after.name,
                ":searchable": after.searchable,
                ":seen_name": before.name,
                ":seen": before.searchable,
                **{f":{k}": v for k, v in keys.items()},
            },
        }
        self._writes.append(Write({"Update": request}))

    @store_errors
    def search(self, query: SearchQuery, limit: int, cursor: str | None) -> Page:
        """One page of the searchable lenders whose name starts with the query: a Query of one
        partition, then a consistent read of the page's users, since the index lags behind
        the table: whoever opted out or was renamed since is left out of the page."""
        scope = f"{INDEX}#{query.form}"
        response = self._db.table(self._name).query(
            IndexName=INDEX,
            KeyConditionExpression=Key("search_prefix").eq(query.partition)
            & Key("search_name").begins_with(query.form),
            Limit=limit,
            **self._cursors.start(cursor, scope),
        )
        ids = [item["user_id"] for item in response["Items"]]
        found = self._db.batch_get({self._name: [{"user_id": i} for i in ids]})[self._name] if ids else []
        users = {u.user_id: u for u in (to_user(item) for item in found if is_user(item))}
        matches = [
            LenderMatch(u.user_id, u.name, u.email)
            for u in (users.get(i) for i in ids)
            if u is not None and u.searchable and query.matches(u.name)
        ]
        return Page(matches, self._cursors.encode(response.get("LastEvaluatedKey"), scope))
