"""ROS 1 messages as ROS 2 messages, so ROS 1 bags replay on ROS 2 topics."""

from __future__ import annotations

from typing import Any


def ros1_to_ros2(msg: Any, store: Any) -> Any:
    """A ROS 1 message object -> the same message in the ROS 2 type store ``store``.

    Fields ROS 2 dropped (``Header.seq``) are left out; nested messages convert recursively.
    """
    cls = store.types[msg.__msgtype__]
    fields = {}
    for name in cls.__dataclass_fields__:
        if name == '__msgtype__':
            continue
        value = getattr(msg, name)
        if hasattr(value, '__msgtype__'):
            value = ros1_to_ros2(value, store)
        elif isinstance(value, list) and value and hasattr(value[0], '__msgtype__'):
            value = [ros1_to_ros2(v, store) for v in value]
        fields[name] = value
    return cls(**fields)


__all__ = ['ros1_to_ros2']
