"""What devstack.moto_patches relies on inside moto, checked against the installed moto: an
upgrade that changes any of it fails here, instead of silently slowing down or corrupting the
local stack. Compares moto's source without white space, so only a change of code fails."""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import moto
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import InstanceTrackerMeta
from moto.core.model_instances import reset_model_data
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

from devstack import moto_patches, moto_reads

REGION = "us-east-1"


def code(function: object) -> str:
    return re.sub(r"\s+", "", inspect.getsource(function))  # type: ignore[arg-type]


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_transact_write_items_backs_up_each_named_table_by_one_deep_copy() -> None:
    stock = moto_patches.STOCK_TRANSACT_WRITE_ITEMS
    assert parameters(stock) == ["self", "transact_items"]
    source = code(stock)
    # The copy the patch turns into the table itself, and moto's two rollbacks, which then
    # put the same table back.
    assert source.count("copy.deepcopy(") == 1
    assert "original_table_state[table_name]=copy.deepcopy(self.tables[table_name])" in source
    assert source.count("self.tables[table_name]=original_table_state[table_name]") == 2
    # The operations, and the key of each one's item, that the patch snapshots the same way.
    assert '{"ConditionCheck","Put","Delete","Update"}' in source
    assert "key={table.hash_key_attr:attrs[table.hash_key_attr]}" in source
    assert "key[table.range_key_attr]=attrs[table.range_key_attr]" in source
    assert 'key=op["Key"]' in source
    for write in (
        "self.put_item(table_name,attrs,",
        "self.delete_item(table_name,key,",
        "self.update_item(table_name,key,",
        "current=self.get_item(table_name,key)",
    ):
        assert write in source, write


def test_keys_resolve_through_the_backend_as_the_patch_resolves_them() -> None:
    assert parameters(DynamoDBBackend.get_table) == ["self", "table_name"]
    assert parameters(DynamoDBBackend.get_keys_value) == ["self", "table", "keys"]
    assert "hash_key,range_key=self.get_keys_value(table,keys)" in code(DynamoDBBackend.get_item)
    backend = DynamoDBBackend(REGION, DEFAULT_ACCOUNT_ID)
    hashed, ranged = tables()
    a, b = {"S": "a"}, {"S": "b"}
    assert backend.get_keys_value(hashed, {"pk": a}) == (DynamoType(a), None)
    assert backend.get_keys_value(ranged, {"pk": a, "sk": b}) == (DynamoType(a), DynamoType(b))


def tables() -> tuple[Table, Table]:
    attr = [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g")]
    gsi = [
        {
            "IndexName": "g-index",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    hashed = Table(
        "hashed",
        account_id=DEFAULT_ACCOUNT_ID,
        region=REGION,
        attr=attr,
        global_indexes=gsi,
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    ranged = Table(
        "ranged",
        account_id=DEFAULT_ACCOUNT_ID,
        region=REGION,
        attr=attr,
        global_indexes=gsi,
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    return hashed, ranged


def test_a_table_keeps_its_items_by_hash_then_range_key_and_nothing_else_holds_them() -> None:
    hashed, ranged = tables()
    assert (hashed.hash_key_attr, hashed.range_key_attr, ranged.range_key_attr) == ("pk", None, "sk")
    assert isinstance(ranged.items, defaultdict) and ranged.items.default_factory is dict
    assert hashed.stream_shard is None and ranged.stream_shard is None
    one = hashed.put_item({"pk": {"S": "a"}, "g": {"S": "x"}})
    other = ranged.put_item({"pk": {"S": "a"}, "sk": {"S": "b"}, "g": {"S": "x"}})
    assert hashed.items == {DynamoType({"S": "a"}): one}
    assert ranged.items == {DynamoType({"S": "a"}): {DynamoType({"S": "b"}): other}}
    # Nothing in a table but its items holds an item: a GSI is computed from the items when
    # queried, so restoring the items restores it.
    for table, item in ((hashed, one), (ranged, other)):
        assert table.global_indexes and holds(vars(table), item)
        assert not holds([value for name, value in vars(table).items() if name != "items"], item)


def holds(node: object, target: object, seen: set[int] | None = None) -> bool:
    """Whether ``target`` is reachable from ``node`` through containers and instance attributes."""
    seen = set() if seen is None else seen
    if node is target:
        return True
    if id(node) in seen or isinstance(node, (type, ModuleType)):
        return False
    seen.add(id(node))
    if isinstance(node, dict):
        children: Iterable[object] = [*node.keys(), *node.values()]
    elif isinstance(node, (list, tuple, set, frozenset)):
        children = node
    else:
        children = vars(node).values() if hasattr(node, "__dict__") else ()
    return any(holds(child, target, seen) for child in children)


def test_base_model_tracks_every_instance_on_a_list_of_its_class() -> None:
    assert "cls.instances_tracked.append(instance)" in code(moto_patches.STOCK_BASE_MODEL_NEW)
    assert "cls.instances_tracked:ClassVar[list[BaseModel]]=[]" in code(InstanceTrackerMeta.__new__)
    assert "model.instances_tracked=[]" in code(reset_model_data)


# Every use of the registries in moto: appending (BaseModel.__new__), iterating (the dashboard,
# S3's reset) and replacing (class creation, reset). The weak registry supports exactly these.
KNOWN_USES = {
    "core/base_backend.py": ["cls.instances_tracked: ClassVar[list[BaseModel]] = []"],
    "core/common_models.py": ["cls.instances_tracked.append(instance)"],
    "core/model_instances.py": ["model.instances_tracked = []"],
    "moto_api/_internal/responses.py": ["for instance in model.instances_tracked:"],
    "s3/models.py": ["for mp in FakeMultipart.instances_tracked:", "for key in FakeKey.instances_tracked:"],
}


def test_moto_only_appends_to_iterates_over_and_replaces_its_registries() -> None:
    root = Path(moto.__file__).parent
    uses = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "instances_tracked" in text:
            uses[path.relative_to(root).as_posix()] = [
                line.split("#")[0].strip() for line in text.splitlines() if "instances_tracked" in line
            ]
    assert uses == KNOWN_USES


def test_a_stream_shard_hands_records_to_the_mappings_it_finds_on_its_table() -> None:
    """Fix 3 empties the table's mappings while moto's own ``StreamShard.add`` runs."""
    source = code(moto_patches.STOCK_STREAM_ADD)
    assert parameters(moto_patches.STOCK_STREAM_ADD) == ["self", "old", "new"]
    assert "self.items.append(StreamRecord(" in source
    assert "forarn,esminself.table.lambda_event_source_mappings.items():" in source
    assert "self.items=[]" in source  # what the fix prevents


def test_cloudformation_finds_the_secret_model_and_its_backend_calls_are_unchanged() -> None:
    """devstack.moto_secrets: a CloudFormationModel subclass is a resource type moto creates
    (once its cached lists are dropped), through the backend calls it makes."""
    from moto.cloudformation import parsing
    from moto.secretsmanager.models import SecretsManagerBackend

    from devstack import moto_secrets

    moto_secrets.register()
    assert parsing.get_model_map()["AWS::SecretsManager::Secret"] is moto_secrets.GeneratedSecret
    assert parameters(SecretsManagerBackend.create_secret) == [
        "self", "name", "secret_string", "secret_binary", "description", "tags", "kms_key_id",
        "client_request_token", "replica_regions", "force_overwrite",
    ]  # fmt: skip
    assert parameters(SecretsManagerBackend.get_random_password) == [
        "self", "password_length", "exclude_characters", "exclude_numbers", "exclude_punctuation",
        "exclude_uppercase", "exclude_lowercase", "include_space", "require_each_included_type",
    ]  # fmt: skip


def test_a_query_takes_its_candidates_from_all_items_and_orders_its_results_itself() -> None:
    """moto_reads (fix 1) hands a query its candidates unsorted through `all_items`: moto must still read
    them only there (the index branch and the base-table one) and sort what matched."""
    source = code(moto_reads.STOCK_QUERY)
    assert source.count("self.all_items()") == 2
    assert "possible_results=self.sorted_items(" in source and "possible_results.sort(" in source
    assert parameters(moto_reads.STOCK_QUERY)[:2] == ["self", "hash_key"]
    assert "index_name" in parameters(moto_reads.STOCK_QUERY)


def test_dynamodb_answers_through_a_json_serializer_that_walks_each_structure() -> None:
    """moto_reads (fix 2) writes attribute values in place of moto's JSON structure serializer: DynamoDB
    and its streams must still answer through it, and it must still probe each member."""
    from moto.core.serialize import BaseJSONSerializer, ResponseSerializer, get_serializer_class

    for service in ("dynamodb", "dynamodbstreams"):
        assert issubclass(get_serializer_class(service, "json"), BaseJSONSerializer)
    assert "super()._serialize_type_structure(serialized,value,shape,key)" in code(moto_reads.STOCK_SERIALIZE_STRUCTURE)
    assert "self._serialize_structure_member(wrapper,value,member_shape,member_key)" in code(
        ResponseSerializer._serialize_type_structure
    )
